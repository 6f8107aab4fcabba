"""`jobstream-reporting`: the service roles and the analyst commands (see cli.py)."""

import sys

from jobstream.reporting.cli import main as cli_main


def main() -> None:
    """The service roles (shared CLI) and reporting's analyst commands."""
    sys.exit(cli_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
