"""Resident memory of each service process once started and idle, for this commit and a baseline.

    uv run python benchmarks/idle_memory.py [--baseline 12deb11] [--idle-seconds 30] [--rounds 2]

Starts the five `serve` processes (API, consumers and outbox relay each, as `make up` runs
them; benchmarks/load_stack.py's Stack: fresh databases, a Kafka namespace of their own),
waits until every one is ready, leaves them idle for ``--idle-seconds`` and reads each
process's VmRSS from /proc three times, a second apart (the median is kept). With
``--baseline REV`` the shared library and the services of that commit are extracted with
`git archive` and put first on the processes' PYTHONPATH, and baseline and current rounds
alternate, so both see the same machine. Migrations are this commit's (a superset). Writes
its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline import shadowing
from intake_load import infra_from_env
from load_stack import SERVICES, MiB, Stack
from report import write_section

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("shared/src/jobstream", *(f"services/{s}/src/jobstream/{s}" for s in SERVICES))


def extract(revision: str, into: Path) -> str:
    """The shared library and the services of ``revision``, to shadow this tree's."""
    return shadowing(revision, list(SOURCES), into)


async def one_round(pythonpath: str | None, idle_s: float) -> dict[str, int]:
    """Each service's median VmRSS (bytes) after start-up and ``idle_s`` of idling."""
    saved = os.environ.get("PYTHONPATH")
    if pythonpath:
        os.environ["PYTHONPATH"] = pythonpath
    else:
        os.environ.pop("PYTHONPATH", None)
    stack = Stack(infra_from_env(), Path(tempfile.mkdtemp(prefix="idle-memory-")))
    try:
        await stack.start()
        await asyncio.sleep(idle_s)
        samples = []
        for _ in range(3):
            samples.append(stack.rss())
            await asyncio.sleep(1)
        return {s: int(statistics.median(sample[s] for sample in samples)) for s in SERVICES}
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
        await stack.stop()


async def run(args: argparse.Namespace) -> str:
    variants: list[tuple[str, str | None]] = [("this commit", None)]
    if args.baseline:
        baseline = extract(args.baseline, Path(tempfile.mkdtemp(prefix="idle-baseline-")))
        variants.insert(0, (f"baseline {args.baseline}", baseline))
    results: dict[str, list[dict[str, int]]] = {name: [] for name, _ in variants}
    for _ in range(args.rounds):
        for name, path in variants:
            results[name].append(await one_round(path, args.idle_seconds))
            print(name, {s: v // MiB for s, v in results[name][-1].items()}, flush=True)
    header = "| variant | " + " | ".join(SERVICES) + " |"
    rows = [header, "|---|" + "---|" * len(SERVICES)]
    for name, rounds in results.items():
        cells = [f"{statistics.median(r[s] for r in rounds) / MiB:.0f} MiB" for s in SERVICES]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(rows)
    return f"""
Each of the five `serve` processes (API, consumers and outbox relay, one uvicorn worker)
on the local PostgreSQL and Kafka, started, ready, then idle for {args.idle_seconds:g} s;
VmRSS from /proc, median of three readings a second apart, then the median over
{args.rounds} rounds. Variants alternate round by round on the same machine (2 cores
shared by the five processes, Kafka and PostgreSQL).

{table}

The baseline imports VROOM (and with it pandas and pyarrow) in dispatch, matplotlib and
pyarrow in reporting, and ReportLab in billing at start-up; this commit imports them where
they are used (the day optimiser, a chart, a Parquet export, a PDF), which
`tests/test_layout.py` checks for each service's command and app.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", help="a commit to compare with, e.g. 12deb11")
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not (0 <= args.idle_seconds <= 600 and 1 <= args.rounds <= 5):
        parser.error("keep the run bounded: --idle-seconds 0-600, --rounds 1-5")
    body = asyncio.run(run(args))
    print(body)
    command = (
        f"uv run python benchmarks/idle_memory.py --idle-seconds {args.idle_seconds:g} "
        f"--rounds {args.rounds}" + (f" --baseline {args.baseline}" if args.baseline else "")
    )
    write_section("idle-memory", "Resident memory of idle services", command, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
