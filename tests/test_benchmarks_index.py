"""docs/benchmarks.md: every headline pattern finds its figure, and the index is current."""

import re
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from headlines import HEADLINES  # noqa: E402
from report import BENCHMARKS_MD, SECTION, with_index  # noqa: E402

SECTIONS = {m["name"]: m["body"] for m in SECTION.finditer(BENCHMARKS_MD.read_text())}


@pytest.mark.parametrize("name", sorted(HEADLINES))
def test_every_headline_figure_is_found_in_its_section(name):
    assert name in SECTIONS, f"docs/benchmarks.md has no section {name}"
    missing = [
        what
        for what, pattern, *_ in HEADLINES[name]
        if not re.search(pattern, SECTIONS[name], re.S)
    ]
    assert missing == [], f"{name}: no figure for {missing}"


def test_every_section_has_headline_figures():
    assert set(SECTIONS) <= set(HEADLINES), (
        "add the new section's headlines to benchmarks/headlines.py"
    )


def test_the_index_is_current():
    text = BENCHMARKS_MD.read_text()
    assert with_index(text) == text, "run: uv run python benchmarks/report.py"
