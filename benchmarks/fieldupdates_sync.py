"""Offline sync throughput of fieldupdates: 1,000-action batches against a real process.

    uv run python benchmarks/fieldupdates_sync.py [--runs 5]

Kafka and PostgreSQL come from KAFKA_BOOTSTRAP_SERVERS and JOBSTREAM_PG_ADMIN_URL, or else
from the local stack (`stack.sh infra-up`, as the tests do).

Starts `jobstream-fieldupdates serve` (API, consumer and outbox relay in one process) on a
fresh database on the local PostgreSQL, in a Kafka namespace of its own; publishes job
packs to its dispatch topic and waits until they are on the device; then posts
1,000-action batches as a technician's device would after a day offline (shuffled, with
client ids and device times) and times each POST /sync. Each batch is posted twice: the
first applies every action, the second finds each a duplicate. Two shapes: 20 jobs × 50
actions (a day's round) and 1 job × 1,000 actions (one long job). Writes its section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import percentile, write_section

from jobstream.auth import Role, mint_token
from jobstream.auth.keys import use_key_files
from jobstream.contracts import topics
from jobstream.contracts.topics import all_topic_specs, namespaced
from jobstream.db import upgrade_to_head
from jobstream.messaging.admin import ensure_topics
from jobstream.messaging.envelope import Envelope
from jobstream.settings import AuthSettings
from jobstream.testing.builders import JobStory
from jobstream.testing.contract_suite import publish
from jobstream.testing.infra import create_database, drop_database, find_infra

COMMAND = "uv run python benchmarks/fieldupdates_sync.py --runs 5"
TECHNICIAN = "tech-bench"
BATCH = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def job_actions(wo: str, count: int, start: datetime) -> list[dict[str, Any]]:
    """``count`` actions of one job in device order: the flow around records."""
    head = [
        ("acknowledge", {}),
        ("start_travel", {"eta": (start + timedelta(minutes=30)).isoformat()}),
        ("log_time", {"kind": "travel", "minutes": 25}),
        ("arrive", {}),
        ("start_work", {}),
    ]
    tail = [("put_on_hold", {"reason": "parts_required"}), ("resume", {}), ("complete", {})]
    records = []
    for i in range(count - len(head) - len(tail)):
        records.append(
            [
                ("log_time", {"kind": "labour", "minutes": 5}),
                (
                    "use_material",
                    {"sku": f"SKU-{i}", "description": "Fitting", "quantity_milli": 1000},
                ),
                ("add_note", {"text": f"Observation {i}"}),
            ][i % 3]
        )
    steps = head + records + tail
    steps[-1] = ("complete", {"work_done": "Done", "first_time_fix": True})
    return [
        {
            "action_id": str(uuid.uuid4()),
            "work_order_id": wo,
            "type": kind,
            "device_time": (start + timedelta(seconds=i)).isoformat(),
            "device_seq": i,
            "payload": payload,
        }
        for i, (kind, payload) in enumerate(steps)
    ]


class Bench:
    def __init__(self, url: str, bootstrap: str, namespace: str) -> None:
        self.url = url
        self.bootstrap = bootstrap
        self.namespace = namespace
        token = mint_token(
            AuthSettings(), subject=TECHNICIAN, role=Role.TECHNICIAN, technician_id=TECHNICIAN
        )
        self.headers = {"Authorization": f"Bearer {token}"}
        self.client = httpx.AsyncClient(timeout=300)

    async def dispatch(self, count: int) -> list[str]:
        """Publish ``count`` job packs and wait until the device sees them all."""
        stories = [JobStory(technician_id=TECHNICIAN) for _ in range(count)]
        envelopes = [Envelope.new(s.dispatched(), source="jobstream/dispatch") for s in stories]
        await publish(self.bootstrap, namespaced(topics.DISPATCH, self.namespace), envelopes)
        deadline = time.monotonic() + 120
        for story in stories:
            while (
                await self.client.get(
                    f"{self.url}/jobs/{story.work_order_id}", headers=self.headers
                )
            ).status_code != 200:
                if time.monotonic() > deadline:
                    raise TimeoutError("job packs did not reach fieldupdates")
                await asyncio.sleep(0.05)
        return [s.work_order_id for s in stories]

    async def post(self, actions: list[dict[str, Any]]) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        response = await self.client.post(
            f"{self.url}/sync", json={"actions": actions}, headers=self.headers
        )
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        return elapsed, response.json()

    async def run_shape(self, jobs: int, runs: int) -> dict[str, list[float]]:
        per_job = BATCH // jobs
        first, again = [], []
        for run in range(runs + 1):  # the first run warms connections and caches up
            wos = await self.dispatch(jobs)
            start = datetime.now(UTC) - timedelta(hours=8)
            batch = [a for wo in wos for a in job_actions(wo, per_job, start)]
            random.Random(run).shuffle(batch)
            seconds, body = await self.post(batch)
            assert body["applied"] == len(batch), body["rejected"]
            seconds_again, body_again = await self.post(batch)
            assert body_again["duplicate"] == len(batch)
            if run:
                first.append(len(batch) / seconds)
                again.append(len(batch) / seconds_again)
            rates = (len(batch) / seconds, len(batch) / seconds_again)
            print(
                f"{jobs} job(s): {rates[0]:.0f} applied/s, {rates[1]:.0f} duplicates/s", flush=True
            )
        return {"first": first, "again": again}


def row(label: str, rates: list[float]) -> str:
    return (
        f"| {label} | {len(rates)} | {statistics.median(rates):.0f} | "
        f"{percentile(rates, 10):.0f} | {min(rates):.0f} – {max(rates):.0f} |"
    )


async def measure(
    url: str, bootstrap: str, namespace: str, runs: int
) -> dict[str, dict[str, list[float]]]:
    bench = Bench(url, bootstrap, namespace)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if (await bench.client.get(f"{url}/readyz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("fieldupdates did not become ready")
            await asyncio.sleep(0.2)
        return {"20x50": await bench.run_shape(20, runs), "1x1000": await bench.run_shape(1, runs)}
    finally:
        await bench.client.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    load_before = os.getloadavg()[0]
    # The service process and this client must share the token secret.
    use_key_files(tempfile.mkdtemp(prefix="jobstream-bench-keys-"))
    with find_infra() as infra:
        asyncio.run(ensure_topics(infra.bootstrap_servers, all_topic_specs(3, namespace)))
        db_url = create_database(infra, prefix="bench")
        upgrade_to_head("jobstream.fieldupdates.db:migrations", db_url)
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers,
            "JOBSTREAM_NAMESPACE": namespace,
            "JOBSTREAM_ENV": "production",
            "JOBSTREAM_LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "jobstream.fieldupdates", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            results = asyncio.run(
                measure(f"http://127.0.0.1:{port}", infra.bootstrap_servers, namespace, args.runs)
            )
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            drop_database(infra, db_url)

    load_after = os.getloadavg()[0]
    day, long = results["20x50"], results["1x1000"]
    ratio = statistics.median(day["again"]) / statistics.median(day["first"])
    body = f"""
One `jobstream-fieldupdates serve` process (API, consumer and outbox relay; the relay
publishes the new events to Kafka while the next batch is posted) on a fresh database on
the local PostgreSQL 15, one client posting `POST /sync` batches of 1,000 actions, shuffled,
with client ids and device times, one batch at a time. A warm-up batch per shape is not
counted. Figures are actions per second of wall time for the whole request (parsing,
validation, per-job row lock, folding the job's stream, deciding, appending events with the
outbox, the action ledger and query tables, the JSON answer).

| batch of 1,000 actions | batches | median actions/s | p10 | min – max |
|---|---|---|---|---|
{row("20 jobs × 50 actions, first post (all applied)", day["first"])}
{row("20 jobs × 50 actions, same batch again (all duplicates)", day["again"])}
{row("1 job × 1,000 actions, first post (all applied)", long["first"])}
{row("1 job × 1,000 actions, same batch again (all duplicates)", long["again"])}

Re-posting a batch already applied runs at {ratio:.1f}× the speed of applying it: a
duplicate costs one ledger look-up per job and no append. Each job of a batch is its own
transaction, so a batch's jobs queue on the event store's append lock (ADR 0003) one after
another; jobs of different technicians' batches interleave.

The machine is shared (2 cores, other services' test suites running): the 1-minute load
average was {load_before:.1f} before and {load_after:.1f} after this run, and repeated runs
on the same commit have differed by up to 2.5×; compare figures within one run.
"""
    write_section("fieldupdates-sync", "Fieldupdates offline sync throughput", COMMAND, body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
