"""How long the local stack takes to come up, and how long a job takes from request to invoice.

    uv run python benchmarks/stack.py [--runs 3] [--journeys 60]

Stops the stack (data kept, jars cached), times ``stack.sh up`` from cold processes and
again with Kafka and PostgreSQL already running, then drives ``--journeys`` jobs through
the five services' HTTP APIs (request → scheduled → on the device → completed → invoiced →
on reporting's timeline) and writes the figures to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import summary_ms, write_section

from jobstream.demo import REQUESTS, Stack

REPO = Path(__file__).resolve().parents[1]
STACK = ["bash", str(REPO / "deploy/local/stack.sh")]


def home() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jobstream"
    return Path(os.environ.get("JOBSTREAM_HOME", default))


def timed_up() -> tuple[float, float]:
    """Run ``stack.sh up``; seconds until every service was ready, and until it returned."""
    started = time.perf_counter()
    ready_at = None
    with subprocess.Popen(
        [*STACK, "up"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "reporting: ready" in line:
                ready_at = time.perf_counter() - started
        if proc.wait() != 0:
            raise SystemExit("stack.sh up failed")
    total = time.perf_counter() - started
    return ready_at or total, total


async def journeys(count: int) -> list[dict[str, float]]:
    stack = Stack.local()
    try:
        await stack.wait_ready(60)
        await stack.register_technicians()
        # A couple of journeys first, so connection set-up is not measured.
        for request in REQUESTS[:2]:
            await stack.journey(request, timeout_s=60)
        results = []
        for i in range(count):
            journey = await stack.journey(REQUESTS[i % len(REQUESTS)], timeout_s=60)
            results.append(journey.seconds)
        return results
    finally:
        await stack.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--journeys", type=int, default=60)
    args = parser.parse_args()

    cold_ready, cold_total, warm_ready = [], [], []
    for _ in range(args.runs):
        subprocess.run([*STACK, "down"], check=True, capture_output=True)
        ready, total = timed_up()
        cold_ready.append(ready)
        cold_total.append(total)
        print(f"up from stopped processes: ready {ready:.1f}s, returned {total:.1f}s", flush=True)
    for _ in range(args.runs):
        ready, _total = timed_up()
        warm_ready.append(ready)
        print(f"up with Kafka and PostgreSQL running: ready {ready:.1f}s", flush=True)

    os.environ["JOBSTREAM_SIGNING_KEYS"] = str(home() / "run" / "signing-keys.json")
    seconds = asyncio.run(journeys(args.journeys))

    def col(name: str) -> list[float]:
        return [s[name] for s in seconds]

    def spread(values: list[float]) -> str:
        median = statistics.median(values)
        return f"{median:.1f} s | {min(values):.1f} – {max(values):.1f} s"

    returned = statistics.median(cold_total)

    body = f"""
`make up` runs `stack.sh up`: install check, Kafka and PostgreSQL start, topics, five
migrations, five service processes, then the demo data. "Ready" is when the last service's
`/readyz` answered 200; the Kafka jars and Python packages were already cached.

| start | runs | median ready | min – max ready |
|---|---|---|---|
| everything stopped (`make down` first) | {args.runs} | {spread(cold_ready)} |
| Kafka and PostgreSQL already running | {args.runs} | {spread(warm_ready)} |

`make up` returned (demo data loaded) after a median {returned:.1f} s from stopped.

One job's journey through the five processes over real Kafka and PostgreSQL, {len(seconds)}
jobs one after another, timed by the client polling each service's API every 20 ms
(so each figure includes up to ~20 ms of polling granularity):

| span | median / p90 / max (ms) |
|---|---|
| request logged → job pack on the technician's device | {summary_ms(col("request_to_device"))} |
| completion posted → invoice served by billing | {summary_ms(col("completion_to_invoice"))} |
| request logged → invoice issued (no field time) | {summary_ms(col("request_to_invoice"))} |
"""
    write_section(
        "stack",
        "Local stack start-up and request → invoice latency",
        "uv run python benchmarks/stack.py --runs 3 --journeys 60",
        body,
    )
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
