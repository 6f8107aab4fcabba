"""What a routine release costs as the plan grows: a baseline's dispatch against this tree's.

    uv run python benchmarks/dispatch_plan_load.py [--technicians 100] [--jobs 1000]
        [--baseline REV]

(needs PostgreSQL: JOBSTREAM_PG_ADMIN_URL from the environment, or the local stack that
`make infra-up` starts; each run creates and drops its own database.)

Each run registers the technicians (08:00–17:00, Monday to Friday) and then releases the
jobs one by one through the scheduler's own handler, each in its own transaction (the
consumer's unit of work, Kafka aside), timing each. The baseline commit's dispatch
package runs in a child process with its code shadowing this tree's (baseline.py), then
this tree's in another, one after the other on the same database server. The table gives
the median per release over each fifth of the releases, so how the cost grows with the
number of open work orders shows, and the ratio of the two medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch_live import MONDAY, release, technician
from report import write_section

from jobstream.contracts.common import Priority
from jobstream.db import async_engine, upgrade_to_head
from jobstream.testing.infra import create_database, drop_database, find_infra

BUCKETS = 5


async def releases(url: str, technicians: int, jobs: int) -> list[float]:
    """Seconds each release took, in order (imports here: the child's dispatch package)."""
    from jobstream.dispatch import handlers as commands
    from jobstream.dispatch.config import DispatchSettings
    from jobstream.dispatch.domain.commands import RegisterTechnician
    from jobstream.dispatch.policies import on_work_order_released
    from jobstream.messaging.envelope import Envelope
    from jobstream.messaging.reactions import handlers_by_event

    settings = DispatchSettings()
    on_release = handlers_by_event(on_work_order_released, context=settings)["WorkOrderReleased"]
    engine = async_engine(url)
    rng = random.Random(0)
    async with engine.begin() as conn:
        for t in range(technicians):
            await commands.register_technician(
                RegisterTechnician(f"tech-{t}", technician(rng, t), MONDAY),
                commands.Context(conn, settings),
            )
    took: list[float] = []
    for n in range(jobs):
        at = MONDAY + timedelta(hours=7)
        env = Envelope.new(release(rng, at, Priority.P3, n), source="bench")
        async with engine.begin() as conn:
            started = time.perf_counter()
            await on_release(conn, env)
            took.append(time.perf_counter() - started)
    await engine.dispose()
    return took


def child(technicians: int, jobs: int) -> None:
    """One run in this process, on a database of its own; prints the timings as JSON."""
    with find_infra() as infra:
        url = create_database(infra, "planload")
        try:
            upgrade_to_head("jobstream.dispatch.db:migrations", url)
            print(json.dumps(asyncio.run(releases(url, technicians, jobs))))
        finally:
            drop_database(infra, url)


def run(pythonpath: str | None, technicians: int, jobs: int) -> list[float]:
    """A child run, with ``pythonpath`` (a baseline's shadowing code) first when given."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, __file__, "--child", f"--technicians={technicians}", f"--jobs={jobs}"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return list(json.loads(out.strip().splitlines()[-1]))


def table(before: list[float], after: list[float], baseline: str) -> str:
    """Median per release in each fifth of the releases, both runs, and their ratio."""
    size = len(after) // BUCKETS
    lines = [
        f"| releases (open work orders before) | {baseline}: median | this tree: median | ratio |",
        "|---|---|---|---|",
    ]
    for b in range(BUCKETS):
        lo, hi = b * size, (b + 1) * size
        old = statistics.median(before[lo:hi]) * 1000
        new = statistics.median(after[lo:hi]) * 1000
        lines.append(f"| {lo}–{hi} | {old:.0f} ms | {new:.0f} ms | {old / new:.2f}× |")
    old, new = statistics.median(before) * 1000, statistics.median(after) * 1000
    lines.append(f"| all {len(after)} | {old:.0f} ms | {new:.0f} ms | {old / new:.2f}× |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--technicians", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--baseline", default="89a9c1d", help="the commit to compare with")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.technicians, args.jobs)
        return 0
    from baseline import shadowing

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        path = shadowing(args.baseline, ["services/dispatch/src/jobstream/dispatch"], Path(scratch))
        before = run(path, args.technicians, args.jobs)
    after = run(None, args.technicians, args.jobs)
    load_after = os.getloadavg()
    body = f"""
{args.technicians} technicians, {args.jobs} routine (P3) releases one after another through
the scheduler's handler, each its own transaction, on a real PostgreSQL (Kafka aside). The
baseline ran first, then this tree, in one invocation; both on the same 2 cores as the
database server.

{table(before, after, args.baseline)}

Machine load (1-minute average) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}.
"""
    write_section(
        "dispatch-plan-load",
        "Dispatch: a routine release as the plan grows",
        "uv run python benchmarks/dispatch_plan_load.py "
        f"--technicians {args.technicians} --jobs {args.jobs} --baseline {args.baseline}",
        body,
    )
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
