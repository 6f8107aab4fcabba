"""`jobstream-reporting migrate|api|consume|serve|rebuild|export|kpis`."""

import sys

from jobstream.reporting.app import definition
from jobstream.reporting.cli import COMMANDS, run_analyst_cli
from jobstream.service import run_service_cli


def main() -> None:
    """The service roles (shared CLI) and reporting's analyst commands."""
    argv = sys.argv[1:]
    if argv and argv[0] in COMMANDS:
        sys.exit(run_analyst_cli(argv))
    sys.exit(run_service_cli(definition(), argv))


if __name__ == "__main__":
    main()
