"""`jobstream-reporting migrate|api|consume|serve`."""

from jobstream.reporting.app import definition
from jobstream.service import main_for

main = main_for(definition)

if __name__ == "__main__":
    main()
