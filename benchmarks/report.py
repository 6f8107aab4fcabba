"""Write a benchmark's figures into its own section of docs/benchmarks.md.

Each benchmark owns one section, delimited by HTML comments, and replaces it whole on
each run, so the file always holds the latest figures of every benchmark with the command,
machine and date that produced them.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from headlines import HEADLINES

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Every figure here was written by the command shown above it; rerun the command to refresh
its section. These machines are noisy, so figures are medians (with p90 or the spread where
it matters) and ratios measured in the same run, never single timings. No test asserts on
speed.
"""


def machine() -> str:
    """A one-line description of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = f"{platform.system()} {platform.release()}"
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, {system}, "
        f"Python {platform.python_version()}"
    )


def git_revision() -> str:
    """The commit measured (with +dirty when the tree has changes)."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], check=False).returncode
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> str:
    """'median / p90 / max' in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return f"{statistics.median(ms):.0f} / {percentile(ms, 90):.0f} / {max(ms):.0f}"


def write_section(name: str, title: str, command: str, body: str) -> None:
    """Replace (or add) the section ``name`` of docs/benchmarks.md, then the index at the top."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"<!-- bench:{name} -->\n## {title}\n\n"
        f"Command: `{command}`  \n"
        f"Measured: {stamp} on {machine()}, commit {git_revision()}.\n\n"
        f"{body.strip()}\n<!-- /bench:{name} -->"
    )
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else HEADER
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S
    )
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    text = with_index(text)
    BENCHMARKS_MD.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARKS_MD.write_text(text if text.endswith("\n") else text + "\n")


SECTION = re.compile(
    r"<!-- bench:(?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- /bench:(?P=name) -->", re.S
)
INDEX = re.compile(r"<!-- index -->.*?<!-- /index -->\n?", re.S)


def with_index(text: str) -> str:
    """``text`` with its index table rebuilt after the header.

    The table holds every headline figure with its command, machine, date and commit, read
    out of the sections by HEADLINES.
    """
    rows = [
        "| figure | value | section | command | machine | measured |",
        "|---|---|---|---|---|---|",
    ]
    for match in SECTION.finditer(text):
        body = match["body"]
        title = re.search(r"^## (.+)$", body, re.M)
        command = re.search(r"^Command: `(.+?)`", body, re.M)
        measured = re.search(r"^Measured: (.+?) on (.+?), Linux .*?, commit (\S+?)\.$", body, re.M)
        if not (title and command and measured):
            continue
        when, where, commit = measured.groups()
        anchor = re.sub(r"[^\w\- ]", "", title[1].lower()).replace(" ", "-")
        for what, pattern, *fmt in HEADLINES.get(match["name"], ()):
            found = re.search(pattern, body, re.S)
            if not found:
                value = "not in this section's last run"
            elif fmt:
                value = fmt[0].format(*found.groups())
            else:
                value = " / ".join(found.groups())
            rows.append(
                f"| {what} | {value} | [{match['name']}](#{anchor}) | `{command[1]}` "
                f"| {where} | {when}, {commit} |"
            )
    index = (
        "<!-- index -->\n## Every headline figure\n\n"
        "Gathered from the sections below (each section has the full tables).\n\n"
        + "\n".join(rows)
        + "\n<!-- /index -->\n"
    )
    if INDEX.search(text):
        return INDEX.sub(lambda _m: index, text)
    first = text.find("<!-- bench:")
    if first < 0:
        return text.rstrip("\n") + "\n\n" + index
    return text[:first] + index + "\n" + text[first:]


if __name__ == "__main__":
    # `uv run python benchmarks/report.py` rebuilds the index alone (after a merge, say).
    BENCHMARKS_MD.write_text(with_index(BENCHMARKS_MD.read_text()))
    print(f"index of {BENCHMARKS_MD} rebuilt")
