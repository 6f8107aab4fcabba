"""The alert rules pass ``promtool check rules`` and their unit tests, and each says what to do.

promtool is Debian's (``apt-get install prometheus``), the one deploy/local/stack.sh installs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from jobstream.testing.infra import repo_root

REPO = repo_root()
MONITORING = REPO / "deploy/monitoring"
RULE_FILES = sorted((MONITORING / "rules").glob("*.yml"))
RULE_TESTS = sorted((MONITORING / "tests").glob("*.yml"))
PROMTOOL = os.environ.get("JOBSTREAM_PROMTOOL", "/usr/bin/promtool")


@pytest.fixture(scope="module")
def promtool() -> str:
    assert shutil.which(PROMTOOL), f"no promtool at {PROMTOOL}: apt-get install prometheus"
    return PROMTOOL


def alerts() -> list[dict]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def test_promtool_accepts_the_rules(promtool):
    assert RULE_FILES
    result = subprocess.run(
        [promtool, "check", "rules", *map(str, RULE_FILES)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_unit_tests_pass(promtool):
    assert RULE_TESTS
    result = subprocess.run(
        [promtool, "test", "rules", *map(str, RULE_TESTS)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=MONITORING / "tests",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test():
    tested = {
        case["alertname"]
        for path in RULE_TESTS
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {rule["alert"] for rule in alerts()} - tested == set()


def test_every_alert_has_a_severity_a_summary_and_a_runbook_section():
    readme = (MONITORING / "README.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9-]", "", heading.strip().lower().replace(" ", "-"))
        for heading in re.findall(r"^#+ (.+)$", readme, flags=re.M)
    }
    for rule in alerts():
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        page, _, anchor = rule["annotations"]["runbook"].partition("#")
        assert page == "deploy/monitoring/README.md" and anchor in anchors, rule["alert"]
