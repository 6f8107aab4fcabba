"""`jobstream-reporting --help` lists every subcommand.

The shared service roles and the analyst commands.
"""

import re

import pytest

from jobstream.reporting.app import definition
from jobstream.reporting.cli import main
from jobstream.service import run_service_cli


def help_of(run, capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        run(["--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_the_help_lists_every_subcommand(capsys):
    shared = help_of(lambda argv: run_service_cli(definition(), argv), capsys)
    roles = re.search(r"\{([a-z,-]+)\}", shared)
    assert roles is not None
    listed = help_of(main, capsys)
    for command in [*roles.group(1).split(","), "rebuild", "export", "kpis"]:
        assert re.search(rf"^\s+{command}\b", listed, re.MULTILINE), command


def test_rebuild_offers_a_replay_from_kafka(capsys):
    with pytest.raises(SystemExit):
        main(["rebuild", "--help"])
    assert "--from-kafka" in capsys.readouterr().out
