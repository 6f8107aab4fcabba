"""A full-size simulated business day, with and without faults, and what each took.

    uv run python benchmarks/simulated_day.py [--technicians 12] [--requests 120] [--seed 1]

Runs the two full-size commands of issue 8 one after the other — ``jobstream simulate
--start-stack`` (five service processes on the local Kafka and PostgreSQL) and ``jobstream
simulate --faults`` (the same day on a private Kafka and PostgreSQL, with every service
SIGKILLed in turn, the broker and PostgreSQL restarted, duplicated and malformed records
injected) — and writes their counts, invariant checks and recovery times to
docs/benchmarks.md. Exits 1 when any invariant failed in either run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import write_section

REPO = Path(__file__).resolve().parents[1]
HEADER = (
    "| run | technicians | requests | work orders | completed / incomplete | device actions "
    "| invariant checks | invariants | wall time |\n|---|---|---|---|---|---|---|---|---|"
)
EXACT_DEAD_LETTERS = "each consumer holds exactly the malformed records of its topics"


def run_day(extra: list[str], size: list[str]) -> tuple[int, float, dict[str, Any]]:
    """One `jobstream simulate` run; its exit code, wall seconds and JSON summary."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.json"
        command = ["uv", "run", "jobstream", "simulate", *extra, *size, "--json", str(out)]
        print("$", " ".join(command), flush=True)
        started = time.monotonic()
        code = subprocess.run(command, cwd=REPO, check=False).returncode
        seconds = time.monotonic() - started
        summary = json.loads(out.read_text()) if out.exists() else {}
    return code, seconds, summary


def row(label: str, code: int, seconds: float, s: dict[str, Any]) -> str:
    """One table row for a run."""
    verdict = "all held" if code == 0 else f"**FAILED** ({s.get('failures', '?')})"
    return (
        f"| {label} | {s.get('technicians', '?')} | {s.get('requests', '?')} | "
        f"{s.get('work_orders', '?')} | {s.get('completed', '?')} / {s.get('incomplete', '?')} | "
        f"{s.get('device_actions', '?')} in {s.get('sync_batches', '?')} batches "
        f"({s.get('sync_duplicates_answered', '?')} answered duplicate) | "
        f"{s.get('checks', '?')} | {verdict} | {seconds:.0f} s |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--technicians", type=int, default=12)
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    size = [
        "--technicians",
        str(args.technicians),
        "--requests",
        str(args.requests),
        "--seed",
        str(args.seed),
    ]
    plain = run_day(["--start-stack"], size)
    faulty = run_day(["--faults"], size)
    recovery = faulty[2].get("recovery_seconds", {})
    recovery_rows = "\n".join(f"| {what} | {sec:.1f} s |" for what, sec in recovery.items())
    body = f"""
Both runs drive the same seeded day through the five services' public HTTP APIs (every
intake channel, approvals, releases, dispatch's engine, devices online and offline syncing
late in repeated shuffled batches, completions and incomplete visits, follow-ups, invoices,
payments) and then check the invariants against the simulator's own ground truth: one work
order per request, no unqualified assignment, every completed job invoiced exactly once at the
simulator's own price, reporting's KPIs equal to the simulator's. Full-size commands:
`uv run jobstream simulate --start-stack` and `uv run jobstream simulate --faults`.

{HEADER}
{row("plain day (`--start-stack`)", *plain)}
{row("day with faults (`--faults`)", *faulty)}

With faults: {faulty[2].get("duplicates_injected", "?")} records re-published (a relay
that published twice) and {faulty[2].get("malformed_injected", "?")} malformed records
injected; dead-letter check: {faulty[2].get("dead_letter_problems") or EXACT_DEAD_LETTERS}.
Seconds from each fault until all five services answered `/readyz` again:

| fault | back to ready |
|---|---|
{recovery_rows}
"""
    write_section(
        "simulation",
        "A simulated business day at full size, plain and with faults",
        "uv run python benchmarks/simulated_day.py "
        f"--technicians {args.technicians} --requests {args.requests} --seed {args.seed}",
        body,
    )
    print(body)
    return 0 if plain[0] == 0 and faulty[0] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
