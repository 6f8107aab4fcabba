"""`jobstream-dispatch migrate|api|consume|relay|serve`."""

from jobstream.dispatch.app import definition
from jobstream.service import main_for

main = main_for(definition)

if __name__ == "__main__":
    main()
