"""Intake at capacity: where a request's time goes, for this commit and a baseline.

    uv run python benchmarks/load_intake_lock.py [--baseline 17cc3ba] [--rounds 3] [--seconds 30]

Runs one `jobstream-intake serve` process (benchmarks/intake_load.py's Server: fresh
database, own namespace) with `--concurrency` clients logging requests back to back, and
meanwhile samples, every 50 ms, what each of the process's database sessions is doing
(pg_stat_activity: waiting for the event store's table lock, idle in a transaction while the
Python process works, running a statement) and, from /proc, how much CPU the process used.
With `--baseline REV` the intake package, jobstream/service.py and the event store
(jobstream/eventstore/store.py, where the append lock is) of that commit are extracted
with `git archive` and put first on the server's PYTHONPATH, and baseline and current runs
alternate, so both see the same (shared, noisy) machine. Only loopback traffic;
bounded in time. Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline import shadowing
from intake_load import Server, capacity, infra_from_env, seed
from report import write_section

from jobstream.auth import Role, mint_token
from jobstream.db import libpq_dsn
from jobstream.settings import AuthSettings

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    variant: str
    throughput: float
    ok: int
    cores: float
    cpu_ms_per_request: float
    sessions: dict[str, float]  # average number of sessions in each state
    load1: float


def state_of(wait_type: str | None, state: str, query: str) -> str:
    if wait_type == "Lock" and query.startswith("LOCK TABLE"):
        return "waiting for the events table lock"
    if wait_type == "Lock" and "pg_advisory_xact_lock" in query:
        return "waiting for an advisory lock (one subject's appends, or an idempotency key)"
    if wait_type == "Lock":
        return "waiting for a lock (other: " + query[:24] + "…)"
    if state.startswith("idle in transaction"):
        return "idle in transaction (waiting for the Python process)"
    if state == "active":
        return "running a statement"
    return "idle (between requests)"


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_run(variant: str, pythonpath: str | None, args: argparse.Namespace) -> Run:
    infra = infra_from_env()
    saved = os.environ.get("PYTHONPATH")
    if pythonpath:
        os.environ["PYTHONPATH"] = pythonpath
    else:
        os.environ.pop("PYTHONPATH", None)
    server = Server(infra, Path(tempfile.gettempdir()) / f"intake-lock-{variant}.log")
    counts: Counter[str] = Counter()
    samples = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal samples
        database = make_url(server.database_url).database
        with psycopg.connect(libpq_dsn(infra.pg_admin_url), autocommit=True) as conn:
            while not stop.is_set():
                rows = conn.execute(
                    "SELECT state, wait_event_type, query FROM pg_stat_activity "
                    "WHERE datname = %s AND backend_type = 'client backend' "
                    "AND pid <> pg_backend_pid() AND query NOT LIKE 'LISTEN%%'",
                    (database,),
                ).fetchall()
                samples += 1
                for state, wait_type, query in rows:
                    counts[state_of(wait_type, state or "", query or "")] += 1
                time.sleep(0.05)

    try:
        await server.start()
        assert server.process is not None
        headers = {
            "Authorization": "Bearer "
            + mint_token(AuthSettings(), subject="bench", role=Role.DISPATCHER)
        }
        async with httpx.AsyncClient(timeout=30) as client:
            await seed(client, server.url, headers)
        await capacity(server.url, headers, 5, args.concurrency)  # warm-up
        sampler = threading.Thread(target=sample)
        cpu0, wall0 = process_cpu_seconds(server.process.pid), time.monotonic()
        sampler.start()
        throughput, ok, _failed = await capacity(
            server.url, headers, args.seconds, args.concurrency
        )
        cpu = process_cpu_seconds(server.process.pid) - cpu0
        wall = time.monotonic() - wall0
        stop.set()
        sampler.join()
    finally:
        stop.set()
        server.stop()
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    return Run(
        variant,
        throughput,
        ok,
        cpu / wall,
        1000 * cpu / max(ok, 1),
        {k: v / max(samples, 1) for k, v in counts.items()},
        os.getloadavg()[0],
    )


def extract_baseline(rev: str, into: Path) -> str:
    """The intake package, service.py and the event store of ``rev``, to shadow these."""
    return shadowing(
        rev,
        [
            "services/intake/src/jobstream/intake",
            "shared/src/jobstream/service.py",
            "shared/src/jobstream/eventstore/store.py",
        ],
        into,
    )


def row(runs: list[Run]) -> str:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    states = sorted({s for r in runs for s in r.sessions})
    cells = [
        f"{med([r.throughput for r in runs]):.1f} req/s "
        f"({', '.join(f'{r.throughput:.0f}' for r in runs)})",
        f"{med([r.cores for r in runs]):.2f}",
        f"{med([r.cpu_ms_per_request for r in runs]):.1f} ms",
        "<br>".join(f"{med([r.sessions.get(s, 0.0) for r in runs]):.1f} {s}" for s in states),
        ", ".join(f"{r.load1:.1f}" for r in runs),
    ]
    return f"| {runs[0].variant} | " + " | ".join(cells) + " |"


async def main_async(args: argparse.Namespace) -> str:
    variants: list[tuple[str, str | None]] = [("this commit", None)]
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            shadow = extract_baseline(args.baseline, Path(tmp))
            variants.insert(0, (f"baseline {args.baseline}", shadow))
        runs: dict[str, list[Run]] = {name: [] for name, _ in variants}
        for round_ in range(args.rounds):
            for name, path in variants:
                run = await one_run(name, path, args)
                runs[name].append(run)
                print(
                    f"round {round_ + 1} {name}: {run.throughput:.1f} req/s, "
                    f"{run.cores:.2f} cores, {run.cpu_ms_per_request:.1f} ms CPU/request, "
                    f"load {run.load1:.1f}",
                    flush=True,
                )
    table = "\n".join(row(r) for r in runs.values())
    return f"""
One `jobstream-intake serve` process, {args.concurrency} clients logging requests back to back
for {args.seconds:.0f} s per run, {args.rounds} runs per variant, alternating. While they run,
each of the process's database sessions is sampled every 50 ms (pg_stat_activity), and the
process's CPU time is read from /proc. Medians over the runs (each run's throughput in
brackets):

| variant | throughput | CPU (cores) | CPU per request | sessions, by what they wait on | load |
|---|---|---|---|---|---|
{table}

Reading: with `LOCK TABLE events IN EXCLUSIVE MODE` (ADR 0003, the baseline when it has
it) most requests in flight wait for the lock while its holder is idle in its transaction,
waiting for the Python process to send the next statement. Appends serialised per subject
instead (ADR 0079) take that wait away: no session waits on a lock, requests overlap, and
the one process runs at about one core, so throughput is now bounded by its ~10 ms of CPU
per request (issue 15: fewer round trips and more processes are the next steps). See
docs/adr/0061-intake-throughput-and-the-append-lock.md and ADR 0079.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", default="", help="a commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    if not (1 <= args.rounds <= 10 and 5 <= args.seconds <= 300 and 1 <= args.concurrency <= 64):
        parser.error("keep --rounds in 1..10, --seconds in 5..300, --concurrency in 1..64")
    body = asyncio.run(main_async(args))
    print(body)
    command = (
        f"uv run python benchmarks/load_intake_lock.py --rounds {args.rounds} "
        f"--seconds {args.seconds:g} --concurrency {args.concurrency}"
        + (f" --baseline {args.baseline}" if args.baseline else "")
    )
    write_section("load-intake-lock", "Intake at capacity: the append lock and CPU", command, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
