"""Intake throughput and latency under load, against a real running intake process.

    bash deploy/local/test.sh --version >/dev/null   # or: make infra-up (Kafka + PostgreSQL)
    uv run python benchmarks/intake_load.py [--seconds 30] [--concurrency 16] [--load 0.6]

Starts its own `jobstream-intake serve` (API + outbox relay + consumer) on a free port,
with a fresh PostgreSQL database and its own topic namespace on the shared broker, seeds
customers and sites, then:

1. capacity: `--concurrency` clients log requests back to back for `--seconds`;
2. steady load: requests at a fixed rate of `--load` × that capacity for `--seconds`,
   latency measured from each request's scheduled start (no coordinated omission);
3. relay lag: how long each event waited in the outbox before Kafka acknowledged it.

Only loopback traffic; every loop is bounded in count and time. Writes its section of
docs/benchmarks.md and stops the process and drops the database afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import percentile, write_section

from jobstream.auth import Role, mint_token
from jobstream.auth.keys import use_key_files
from jobstream.contracts.topics import all_topic_specs
from jobstream.messaging.admin import ensure_topics
from jobstream.settings import AuthSettings, normalise_database_url
from jobstream.testing.infra import Infra, create_database, drop_database

REPO = Path(__file__).resolve().parents[1]
SITES = 50
FAULTS = [
    "Boiler locked out, fault code F28",
    "No hot water from the kitchen tap",
    "Radiators cold upstairs",
    "Water dripping through the ceiling",
    "Pressure keeps dropping on the boiler",
    "Tripped RCD, no power to sockets",
    "Air handling unit making a grinding noise",
    "Toilet cistern overflowing",
]
JOB_TYPES = ["boiler_repair", "leak_repair", "electrical_fault", "hvac_maintenance"]
PRIORITIES = ["P1", "P2", "P3", "P4"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def infra_from_env() -> Infra:
    home = Path(os.environ.get("JOBSTREAM_HOME", Path.home() / ".cache" / "jobstream"))
    env_file = home / "run" / "stack.env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                os.environ.setdefault(key.strip(), value.strip().strip('"'))
    # Its own key set (the servers it starts verify against the set's JWKS file).
    use_key_files(tempfile.mkdtemp(prefix="jobstream-bench-keys-"))
    return Infra(os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["JOBSTREAM_PG_ADMIN_URL"], "env")


class Server:
    """One intake process: migrated database, own namespace, its log in a temp file."""

    def __init__(self, infra: Infra, log_path: Path) -> None:
        self.infra = infra
        self.namespace = f"bench-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = create_database(infra, "bench")
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        await ensure_topics(self.infra.bootstrap_servers, all_topic_specs(3, self.namespace))
        await asyncio.to_thread(self._launch)
        await self._wait_ready()

    def _launch(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.infra.bootstrap_servers,
            "JOBSTREAM_NAMESPACE": self.namespace,
            "JOBSTREAM_ENV": "production",
            "JOBSTREAM_LOG_LEVEL": "WARNING",
        }
        module = [sys.executable, "-m", "jobstream.intake"]
        subprocess.run([*module, "migrate"], env=env, check=True, capture_output=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [*module, "serve", "--port", str(self.port)], env=env, stdout=log, stderr=log
        )

    async def _wait_ready(self) -> None:
        async with httpx.AsyncClient() as client:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError("intake did not become ready")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        drop_database(self.infra, self.database_url)


async def seed(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
    for n in range(SITES):
        customer = {"customer_id": f"cust-{n}", "name": f"Customer {n}", "billing_address": "x"}
        site = {
            "site_id": f"site-{n}",
            "customer_id": f"cust-{n}",
            "name": "Main",
            "address": f"{n} High Street, Manchester",
            "location": {"lat": 53.48 + n / 1000, "lon": -2.24},
            "time_zone": "Europe/London",
        }
        for path, body in (("/customers", customer), ("/sites", site)):
            (await client.post(f"{url}{path}", json=body, headers=headers)).raise_for_status()


def request_body(rng: random.Random) -> dict[str, Any]:
    n = rng.randrange(SITES)
    return {
        "customer_id": f"cust-{n}",
        "site_id": f"site-{n}",
        "description": f"{rng.choice(FAULTS)} (ref {rng.randrange(10**6)})",
        "priority": rng.choice(PRIORITIES),
        "job_type": rng.choice(JOB_TYPES),
        "channel": "api",
    }


async def log_one(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], rng: random.Random
) -> bool:
    response = await client.post(f"{url}/requests", json=request_body(rng), headers=headers)
    return response.status_code == 201


async def capacity(
    url: str, headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[float, int, int]:
    """(requests/s, ok, failed) with ``concurrency`` clients back to back."""
    ok = failed = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker(seed_: int) -> None:
            nonlocal ok, failed
            rng = random.Random(seed_)
            while time.perf_counter() < deadline:
                if await log_one(client, url, headers, rng):
                    ok += 1
                else:
                    failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    return ok / elapsed, ok, failed


async def steady(
    url: str, headers: dict[str, str], seconds: float, rate: float
) -> tuple[list[float], int, float]:
    """Latencies (s) of requests sent at ``rate``/s, from their scheduled start; failures."""
    latencies: list[float] = []
    failed = 0
    total = int(seconds * rate)
    interval = 1 / rate
    rng = random.Random(7)
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200)) as client:

        async def one(scheduled: float) -> None:
            nonlocal failed
            if await log_one(client, url, headers, rng):
                latencies.append(time.perf_counter() - scheduled)
            else:
                failed += 1

        start = time.perf_counter()
        tasks = []
        for i in range(total):
            scheduled = start + i * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
        achieved = total / (time.perf_counter() - start)
    return latencies, failed, achieved


def relay_lag(database_url: str, timeout_s: float = 120) -> tuple[list[float], int]:
    """Seconds from commit (recorded_at) to Kafka's acknowledgement, once all are published.

    Also how many requests were flagged as possible duplicates.
    """
    engine = create_engine(normalise_database_url(database_url))
    deadline = time.monotonic() + timeout_s
    try:
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                pending = conn.execute(
                    text("SELECT count(*) FROM events WHERE published_at IS NULL")
                ).scalar_one()
                if pending == 0:
                    break
                conn.commit()
                time.sleep(0.5)
            rows = conn.execute(
                text(
                    "SELECT EXTRACT(EPOCH FROM published_at - recorded_at) FROM events "
                    "WHERE published_at IS NOT NULL"
                )
            )
            lags = [float(r[0]) for r in rows]
            flagged = conn.execute(
                text("SELECT count(*) FROM events WHERE event_type = 'PossibleDuplicateFlagged'")
            ).scalar_one()
            return lags, int(flagged)
    finally:
        engine.dispose()


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.0f}"


async def run(args: argparse.Namespace) -> str:
    infra = infra_from_env()
    load_before = os.getloadavg()[0]
    server = Server(infra, Path(args.log))
    try:
        await server.start()
        headers = {
            "Authorization": "Bearer "
            + mint_token(AuthSettings(), subject="bench", role=Role.DISPATCHER, ttl_s=3600)
        }
        async with httpx.AsyncClient(timeout=30) as client:
            await seed(client, server.url, headers)
        await capacity(server.url, headers, 3, args.concurrency)  # warm-up
        throughput, ok, failed_cap = await capacity(
            server.url, headers, args.seconds, args.concurrency
        )
        print(f"capacity: {throughput:.0f} requests/s ({ok} ok, {failed_cap} failed)", flush=True)
        rate = max(1.0, throughput * args.load)
        latencies, failed, achieved = await steady(server.url, headers, args.seconds, rate)
        print(f"steady {achieved:.0f}/s: p50 {ms(latencies, 50)} ms, p99 {ms(latencies, 99)} ms")
        lags, flagged = relay_lag(server.database_url)
    finally:
        server.stop()
    load_after = os.getloadavg()[0]
    p50_90_99 = f"{ms(latencies, 50)} / {ms(latencies, 90)} / {ms(latencies, 99)} ms"
    rows = [
        (
            f"throughput, {args.concurrency} clients back to back, {args.seconds:.0f} s",
            f"**{throughput:.0f} requests/s** ({ok} logged, {failed_cap} failed)",
        ),
        (
            "steady load",
            f"{achieved:.0f} requests/s ({args.load:.0%} of capacity) for {args.seconds:.0f} s, "
            f"{len(latencies)} logged, {failed} failed",
        ),
        ("latency at steady load, p50 / p90 / p99", f"**{p50_90_99}**"),
        (
            "relay: commit → acknowledged by Kafka, p50 / p99",
            f"{ms(lags, 50)} / {ms(lags, 99)} ms over {len(lags)} events",
        ),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return f"""
One `jobstream-intake serve` process (API, outbox relay and field consumer in one process,
uvicorn, one worker) on real PostgreSQL 15 and Kafka, logging requests through
`POST /requests` (customer/site check, contract and SLA, duplicate check against the
site's open requests, one event appended and projected per request). The load generator
runs on the same 2 cores, so these are conservative figures for one process; intake scales
out with more API processes (appends are serialised per database, ADR 0003). The machine is
shared: its 1-minute load average was {load_before:.1f} before and {load_after:.1f} after
the run (2 cores), so other work competed for the CPU.

| measure | value |
|---|---|
{table}

Latency is measured from each request's scheduled start, so a stall shows up in the tail
instead of slowing the sender. Requests draw from 8 fault descriptions over 50 sites, so
{flagged} of them were flagged as possible duplicates (a second event each).
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30, help="length of each phase")
    parser.add_argument("--concurrency", type=int, default=16, help="clients in the capacity run")
    parser.add_argument(
        "--load", type=float, default=0.6, help="steady rate as a share of capacity"
    )
    parser.add_argument("--log", default="/tmp/intake-bench.log", help="the server's log")
    args = parser.parse_args()
    if not (1 <= args.seconds <= 600 and 1 <= args.concurrency <= 256 and 0 < args.load <= 1):
        parser.error("keep --seconds in 1..600, --concurrency in 1..256, --load in (0, 1]")
    body = asyncio.run(run(args))
    command = "uv run python benchmarks/intake_load.py " + " ".join(
        f"--{k} {v}"
        for k, v in (
            ("seconds", args.seconds),
            ("concurrency", args.concurrency),
            ("load", args.load),
        )
    )
    write_section("intake-load", "Intake: requests logged per second, and latency", command, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
