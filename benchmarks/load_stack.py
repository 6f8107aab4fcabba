"""Load: intake and field APIs at a steady rate for minutes, against all five services.

    bash deploy/local/test.sh --version >/dev/null   # or: make infra-up (Kafka + PostgreSQL)
    uv run python benchmarks/load_stack.py [--seconds 120] [--intake-rate 20] [--field-rate 40]

Starts intake, dispatch, fieldupdates, billing and reporting as five `serve` processes (API,
consumers and outbox relay each) on real PostgreSQL and Kafka, in a topic namespace and
databases of their own, seeds technicians, customers and jobs in progress, then runs two
phases one after the other:

1. intake: `POST /requests` at `--intake-rate` per second for `--seconds` (a share of them
   released at once, so dispatch schedules them and the field gets job packs);
2. field: technicians' devices post notes, time, materials and location pings on their jobs
   at `--field-rate` per second for `--seconds`.

Latency is measured from each request's scheduled start (no coordinated omission). Every
second it samples each consumer group's lag (Kafka's end offsets minus the group's committed
offsets, which every consumer commits after its database transaction), each service's
unpublished outbox rows, each process's resident memory (/proc) and the load average; after
each phase it waits (at most `--recovery-seconds`) until every lag and outbox is back to
zero. Only loopback traffic; every loop is bounded in count and time. Writes its section of
docs/benchmarks.md, then stops the processes and deletes their databases and topics.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import random
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake_load import FAULTS, infra_from_env
from report import percentile, write_section

from jobstream.auth import Role, mint_token
from jobstream.contracts.topics import all_topic_specs, namespaced
from jobstream.db import libpq_dsn
from jobstream.demo import wait_until_ready
from jobstream.messaging.admin import delete_topics, ensure_topics
from jobstream.service import Runtime, ServiceSettings
from jobstream.settings import AuthSettings
from jobstream.testing.infra import Infra, create_database, drop_database

SERVICES = ("intake", "dispatch", "fieldupdates", "billing", "reporting")
ON_CALL = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
SKILLS = [
    {"name": "gas_boiler", "level": 3},
    {"name": "plumbing", "level": 3},
    {"name": "hvac", "level": 3},
    {"name": "electrical", "level": 3},
]
CERTIFICATIONS = [
    {"name": c, "expires_on": "2030-12-31"} for c in ("gas_safe", "f_gas", "18th_edition")
]
JOB_TYPES = ["boiler_repair", "leak_repair", "electrical_fault", "hvac_maintenance"]
PRIORITIES = ["P1", "P2", "P3", "P4"]
MiB = 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def consumer_groups() -> dict[str, tuple[str, ...]]:
    """Each service's consumer groups and their input topics, from the service definitions."""
    groups: dict[str, tuple[str, ...]] = {}
    for service in SERVICES:
        definition = importlib.import_module(f"jobstream.{service}.app").definition()
        runtime = Runtime(service, ServiceSettings(), None, None)  # type: ignore[arg-type]
        for spec in definition.consumers(runtime):
            groups[spec.group_id] = spec.topics
    return groups


# -- the five processes -----------------------------------------------------------------


class Stack:
    """Five service processes in their own namespace, databases and log files."""

    def __init__(self, infra: Infra, logs: Path) -> None:
        self.infra = infra
        self.logs = logs
        self.namespace = f"load-{uuid.uuid4().hex[:8]}"
        self.databases: dict[str, str] = {}
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.urls: dict[str, str] = {}
        self.topics = [s.name for s in all_topic_specs(3, self.namespace)]

    async def start(self) -> None:
        await ensure_topics(self.infra.bootstrap_servers, all_topic_specs(3, self.namespace))
        self.logs.mkdir(parents=True, exist_ok=True)
        envs = {}
        for service in SERVICES:
            self.databases[service] = await asyncio.to_thread(create_database, self.infra, "load")
            envs[service] = {
                **os.environ,
                "DATABASE_URL": self.databases[service],
                "KAFKA_BOOTSTRAP_SERVERS": self.infra.bootstrap_servers,
                "JOBSTREAM_NAMESPACE": self.namespace,
                "JOBSTREAM_ENV": "production",
                "JOBSTREAM_LOG_LEVEL": "WARNING",
                "JOBSTREAM_OBJECT_STORE_ROOT": str(self.logs / "objects"),
            }
        migrations = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", f"jobstream.{s}", "migrate", env=envs[s]
            )
            for s in SERVICES
        ]
        for service, migration in zip(SERVICES, migrations, strict=True):
            if await migration.wait() != 0:
                raise RuntimeError(f"{service} migrate failed")
        for service in SERVICES:
            port = free_port()
            with (self.logs / f"{service}.log").open("wb") as log:
                self.processes[service] = await asyncio.create_subprocess_exec(
                    *(sys.executable, "-m", f"jobstream.{service}", "serve", "--port", str(port)),
                    env=envs[service],
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                )
            self.urls[service] = f"http://127.0.0.1:{port}"
        await self._wait_ready(timeout_s=180)

    async def _wait_ready(self, timeout_s: float) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            await wait_until_ready(client, self.urls, timeout_s)

    def rss(self) -> dict[str, int]:
        """Resident memory of each process, in bytes (VmRSS from /proc)."""
        out = {}
        for service, process in self.processes.items():
            try:
                for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        out[service] = int(line.split()[1]) * 1024
            except OSError:
                out[service] = 0
        return out

    async def stop(self) -> None:
        for process in self.processes.values():
            if process.returncode is None:
                process.terminate()
        for process in self.processes.values():
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        for url in self.databases.values():
            await asyncio.to_thread(drop_database, self.infra, url)
        await delete_topics(self.infra.bootstrap_servers, self.topics)


# -- sampling lag, outboxes, memory and load ---------------------------------------------


@dataclass
class Sample:
    at: float
    phase: str
    lag: dict[str, int]
    outbox: dict[str, int]
    rss: dict[str, int]
    load1: float


class Sampler:
    """Once a second: consumer lag per group, outbox backlog per service, RSS, load."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.groups = {
            namespaced(group, stack.namespace): tuple(
                namespaced(t, stack.namespace) for t in topics
            )
            for group, topics in consumer_groups().items()
        }
        self.samples: list[Sample] = []
        self.phase = "setup"
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Sampler:
        bootstrap = self.stack.infra.bootstrap_servers
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self.offsets = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        await self.admin.start()
        await self.offsets.start()
        self.partitions = {
            topic: [
                TopicPartition(topic, p)
                for p in sorted(self.offsets.partitions_for_topic(topic) or {0, 1, 2})
            ]
            for topics in self.groups.values()
            for topic in topics
        }
        self.outbox_connections: dict[str, psycopg.AsyncConnection[Any]] = {}
        for service, url in self.stack.databases.items():
            conn = await psycopg.AsyncConnection.connect(libpq_dsn(url), autocommit=True)
            if await (await conn.execute("SELECT to_regclass('events')")).fetchone() != (None,):
                self.outbox_connections[service] = conn
            else:
                await conn.close()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for conn in self.outbox_connections.values():
            await conn.close()
        await self.offsets.stop()
        await self.admin.close()

    async def lags(self) -> dict[str, int]:
        every = [tp for tps in self.partitions.values() for tp in tps]
        ends = await self.offsets.end_offsets(every)
        out = {}
        for group, topics in self.groups.items():
            committed = await self.admin.list_consumer_group_offsets(group)
            out[group.removeprefix(f"{self.stack.namespace}.")] = sum(
                max(ends[tp] - (committed[tp].offset if tp in committed else 0), 0)
                for topic in topics
                for tp in self.partitions[topic]
            )
        return out

    async def outboxes(self) -> dict[str, int]:
        out = {}
        for service, conn in self.outbox_connections.items():
            row = await (
                await conn.execute("SELECT count(*) FROM events WHERE published_at IS NULL")
            ).fetchone()
            out[service] = int(row[0]) if row else 0
        return out

    async def take(self) -> Sample:
        sample = Sample(
            time.monotonic(),
            self.phase,
            await self.lags(),
            await self.outboxes(),
            self.stack.rss(),
            os.getloadavg()[0],
        )
        self.samples.append(sample)
        return sample

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.take()
            except Exception as exc:  # a sample may fail while the broker is busy
                print(f"sample failed: {exc!r}", flush=True)
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))

    async def drained(self, phase: str, timeout_s: float) -> float | None:
        """Seconds after the load stopped until every lag and outbox was zero, or None."""
        self.phase = phase
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.samples and self.samples[-1].at > started:
                last = self.samples[-1]
                if not any(last.lag.values()) and not any(last.outbox.values()):
                    return last.at - started
            await asyncio.sleep(0.25)
        return None


# -- steady load ----------------------------------------------------------------------


@dataclass
class Result:
    """What a steady phase achieved."""

    target_rate: float
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    achieved_rate: float = 0.0

    @property
    def sent(self) -> int:
        return len(self.latencies) + sum(self.errors.values())


async def steady(
    rate: float, seconds: float, one: Callable[[random.Random], Awaitable[httpx.Response]]
) -> Result:
    """Call ``one`` at ``rate`` per second for ``seconds``; latency from the scheduled start."""
    result = Result(rate, seconds)
    total = int(rate * seconds)
    rng = random.Random(8)

    async def run(scheduled: float) -> None:
        try:
            response = await one(rng)
        except httpx.HTTPError as exc:
            name = type(exc).__name__
            result.errors[name] = result.errors.get(name, 0) + 1
            return
        if response.is_success:
            result.latencies.append(time.perf_counter() - scheduled)
        else:
            key = str(response.status_code)
            result.errors[key] = result.errors.get(key, 0) + 1

    started = time.perf_counter()
    tasks = []
    for i in range(total):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(run(scheduled)))
    await asyncio.gather(*tasks)
    result.achieved_rate = total / (time.perf_counter() - started)
    return result


# -- the business: technicians, customers, jobs in progress ------------------------------


class Business:
    """HTTP clients with tokens, and what was seeded."""

    def __init__(self, urls: dict[str, str], technicians: int, sites: int) -> None:
        self.urls = urls
        self.auth = AuthSettings()
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
        self.client = httpx.AsyncClient(timeout=30, limits=limits)
        self.office = self.headers(Role.DISPATCHER, "load-office")
        self.technician_ids = [f"tech-load-{n:02d}" for n in range(technicians)]
        self.device = {
            t: self.headers(Role.TECHNICIAN, t, technician_id=t) for t in self.technician_ids
        }
        self.sites = sites
        self.jobs: list[tuple[str, str]] = []  # (work order, technician) in progress

    def headers(self, role: Role, subject: str, **scope: str) -> dict[str, str]:
        token = mint_token(self.auth, subject=subject, role=role, ttl_s=4 * 3600, **scope)
        return {"Authorization": f"Bearer {token}"}

    async def post(self, url: str, body: Any, headers: dict[str, str]) -> httpx.Response:
        response = await self.client.post(url, json=body, headers=headers)
        if response.status_code not in (200, 201, 202, 409):
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
        return response

    async def seed(self, jobs: int) -> None:
        rng = random.Random(1)
        for n, technician_id in enumerate(self.technician_ids):
            await self.post(
                f"{self.urls['dispatch']}/technicians",
                {
                    "technician_id": technician_id,
                    "name": f"Technician {n}",
                    "skills": SKILLS,
                    "certifications": CERTIFICATIONS,
                    "home_base": {
                        "lat": 53.40 + rng.random() * 0.15,
                        "lon": -2.35 + rng.random() * 0.25,
                    },
                    "shifts": ON_CALL,
                },
                self.office,
            )
        intake = self.urls["intake"]
        for n in range(self.sites):
            await self.post(
                f"{intake}/customers",
                {"customer_id": f"cust-{n}", "name": f"Customer {n}", "billing_address": "x"},
                self.office,
            )
            await self.post(
                f"{intake}/sites",
                {
                    "site_id": f"site-{n}",
                    "customer_id": f"cust-{n}",
                    "name": "Main",
                    "address": f"{n} High Street, Manchester",
                    "location": {"lat": 53.43 + n / 2000, "lon": -2.24 - n / 3000},
                    "time_zone": "Europe/London",
                },
                self.office,
            )
        # Late in the evening some urgent jobs cannot be fitted before their deadline and
        # dispatch answers SchedulingFailed (shifts end at midnight): log more until enough
        # are on a device.
        for _round in range(5):
            released = [
                (
                    await self.post(
                        f"{intake}/requests", self.request(rng, release=True), self.office
                    )
                ).json()["work_order_id"]
                for _ in range(jobs - len(self.jobs))
            ]
            for wo in released:
                technician_id = await self.dispatched(wo, timeout_s=180)
                if technician_id is None:
                    continue
                await self.start_work(wo, technician_id)
                self.jobs.append((wo, technician_id))
            if len(self.jobs) >= jobs:
                return
        raise RuntimeError(f"only {len(self.jobs)} of {jobs} jobs could be scheduled")

    def request(self, rng: random.Random, *, release: bool) -> dict[str, Any]:
        n = rng.randrange(self.sites)
        return {
            "customer_id": f"cust-{n}",
            "site_id": f"site-{n}",
            "description": f"{rng.choice(FAULTS)} (ref {rng.randrange(10**6)})",
            "priority": rng.choice(PRIORITIES),
            "job_type": rng.choice(JOB_TYPES),
            "channel": "api",
            "release": release,
        }

    async def dispatched(self, wo: str, timeout_s: float) -> str | None:
        """The technician the job went to, once it is on their device.

        None: dispatch could not place it.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            r = await self.client.get(f"{self.urls['dispatch']}/jobs/{wo}", headers=self.office)
            if r.status_code == 200 and r.json().get("state") == "failed":
                return None
            if r.status_code == 200 and r.json().get("technician_id"):
                technician_id: str = r.json()["technician_id"]
                field_url = f"{self.urls['fieldupdates']}/jobs/{wo}"
                device = self.device[technician_id]
                if (await self.client.get(field_url, headers=device)).status_code == 200:
                    return technician_id
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{wo} not on a device after {timeout_s:.0f}s")

    async def start_work(self, wo: str, technician_id: str) -> None:
        device = self.device[technician_id]
        base = f"{self.urls['fieldupdates']}/jobs/{wo}"
        for step in ("acknowledge", "travel", "arrive", "start"):
            await self.post(f"{base}/{step}", {}, device)

    async def log_request(self, rng: random.Random, release_share: float) -> httpx.Response:
        body = self.request(rng, release=rng.random() < release_share)
        return await self.client.post(
            f"{self.urls['intake']}/requests", json=body, headers=self.office
        )

    async def field_action(self, rng: random.Random) -> httpx.Response:
        wo, technician_id = rng.choice(self.jobs)
        device = self.device[technician_id]
        field_url = self.urls["fieldupdates"]
        kind = rng.random()
        if kind < 0.15:
            ping = {
                "lat": 53.45 + rng.random() / 10,
                "lon": -2.25 + rng.random() / 10,
                "device_time": datetime.now(UTC).isoformat(),
            }
            return await self.client.post(f"{field_url}/location", json=ping, headers=device)
        if kind < 0.5:
            path, body = "notes", {"text": f"Checked {rng.choice(FAULTS).lower()}"}
        elif kind < 0.8:
            path, body = "time", {"kind": "labour", "minutes": rng.randrange(5, 30)}
        else:
            path, body = (
                "materials",
                {
                    "sku": f"SKU-{rng.randrange(50)}",
                    "description": "Compression fitting 15 mm",
                    "quantity_milli": 1000,
                },
            )
        return await self.client.post(f"{field_url}/jobs/{wo}/{path}", json=body, headers=device)


# -- the run --------------------------------------------------------------------------


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.0f}" if values else "–"


def phase_row(name: str, result: Result, recovered: float | None) -> str:
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(result.errors.items())) or "0"
    return (
        f"| {name} | {result.target_rate:g}/s × {result.seconds:.0f} s "
        f"| {result.achieved_rate:.1f}/s | {len(result.latencies)} | {errors} "
        f"| {ms(result.latencies, 50)} / {ms(result.latencies, 90)} / "
        f"{ms(result.latencies, 99)} / {ms(result.latencies, 100)} ms "
        f"| {f'{recovered:.0f} s' if recovered is not None else 'not within the wait'} |"
    )


def lag_table(samples: list[Sample], phases: list[str]) -> str:
    groups = sorted({g for s in samples for g in s.lag})
    services = sorted({s for sample in samples for s in sample.outbox})
    lines = [
        "| backlog | " + " | ".join(f"peak, {p}" for p in phases) + " | at the end |",
        "|---|" + "---|" * (len(phases) + 1),
    ]
    last = samples[-1]
    for group in groups:
        peaks = [
            max((s.lag.get(group, 0) for s in samples if s.phase == p), default=0) for p in phases
        ]
        cells = " | ".join(f"{v}" for v in peaks)
        lines.append(f"| consumer `{group}` (records) | {cells} | {last.lag.get(group, 0)} |")
    for service in services:
        peaks = [
            max((s.outbox.get(service, 0) for s in samples if s.phase == p), default=0)
            for p in phases
        ]
        cells = " | ".join(f"{v}" for v in peaks)
        lines.append(
            f"| {service} outbox (unpublished events) | {cells} | {last.outbox.get(service, 0)} |"
        )
    return "\n".join(lines)


def memory_table(samples: list[Sample], start: dict[str, int], end: dict[str, int]) -> str:
    lines = ["| service | start | peak | end |", "|---|---|---|---|"]
    for service in SERVICES:
        peak = max(s.rss.get(service, 0) for s in samples)
        lines.append(
            f"| {service} | {start[service] / MiB:.0f} MiB | {peak / MiB:.0f} MiB "
            f"| {end[service] / MiB:.0f} MiB |"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> str:
    infra = infra_from_env()
    load_before = os.getloadavg()
    stack = Stack(infra, Path(args.logs))
    business: Business | None = None
    try:
        await stack.start()
        print(f"five services ready in namespace {stack.namespace}", flush=True)
        rss_start = stack.rss()
        business = Business(stack.urls, args.technicians, args.sites)
        async with Sampler(stack) as sampler:
            await business.seed(args.jobs)
            print(f"seeded: {len(business.jobs)} jobs in progress", flush=True)
            await sampler.drained("settle", args.recovery_seconds)
            phases: list[tuple[str, Result, float | None]] = []

            sampler.phase = "intake load"
            print(f"intake: {args.intake_rate}/s for {args.seconds:.0f} s", flush=True)
            intake = await steady(
                args.intake_rate,
                args.seconds,
                lambda rng: business.log_request(rng, args.release_share),  # type: ignore[union-attr]
            )
            intake_recovered = await sampler.drained("intake drain", args.recovery_seconds)
            phases.append(("intake `POST /requests`", intake, intake_recovered))
            print(f"intake done: recovered in {intake_recovered}", flush=True)

            sampler.phase = "field load"
            print(f"field: {args.field_rate}/s for {args.seconds:.0f} s", flush=True)
            field_result = await steady(args.field_rate, args.seconds, business.field_action)
            field_recovered = await sampler.drained("field drain", args.recovery_seconds)
            phases.append(("fieldupdates device actions", field_result, field_recovered))
            print(f"field done: recovered in {field_recovered}", flush=True)
            samples = list(sampler.samples)
        rss_end = stack.rss()
    finally:
        if business is not None:
            await business.client.aclose()
        await stack.stop()
    load_after = os.getloadavg()
    during = [s.load1 for s in samples if s.phase in ("intake load", "field load")]
    rows = "\n".join(phase_row(name, result, rec) for name, result, rec in phases)
    in_progress = len(business.jobs) if business else 0
    lag_phases = ["intake load", "intake drain", "field load", "field drain"]
    return f"""
Five `serve` processes (intake, dispatch, fieldupdates, billing, reporting: API, consumers
and outbox relay each, one uvicorn worker) on the local PostgreSQL and Kafka, with
{args.technicians} technicians on call, {args.sites} customer sites and {in_progress} jobs in
progress. The load generator runs on the same 2 cores. Phase 1 logs requests
(`POST /requests`, {args.release_share:.0%} of them released at once, so dispatch schedules
them and fieldupdates receives their job packs); phase 2 posts technicians' device actions
(35 % notes, 30 % time entries, 20 % materials, 15 % location pings) on the jobs in progress.
Latency is from each request's scheduled start.

| phase | target | achieved | ok | errors | latency p50 / p90 / p99 / max | drained after |
|---|---|---|---|---|---|---|
{rows}

"Drained after": seconds from the end of the phase until every consumer lag and outbox below
was zero again. Backlogs, sampled every second (consumer lag: Kafka's end offsets minus the group's
committed offsets; outbox: events not yet acknowledged by Kafka):

{lag_table(samples, lag_phases)}

Resident memory of each process (VmRSS), from ready to the end of the run:

{memory_table(samples, rss_start, rss_end)}

Machine load (1-minute average, 2 cores, shared with other engineers' work):
{load_before[0]:.1f} before, {statistics.mean(during) if during else 0:.1f} on average during the
two phases (max {max(during) if during else 0:.1f}), {load_after[0]:.1f} after.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=120, help="length of each phase")
    parser.add_argument("--intake-rate", type=float, default=20, help="requests logged per s")
    parser.add_argument("--field-rate", type=float, default=40, help="device actions per s")
    parser.add_argument("--release-share", type=float, default=0.25)
    parser.add_argument("--technicians", type=int, default=16)
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=60, help="jobs in progress for phase 2")
    parser.add_argument("--recovery-seconds", type=float, default=300)
    parser.add_argument("--logs", default="/tmp/load-stack", help="the services' logs")
    args = parser.parse_args()
    if not (
        5 <= args.seconds <= 1800
        and 0 < args.intake_rate <= 500
        and 0 < args.field_rate <= 500
        and 0 <= args.release_share <= 1
        and 1 <= args.technicians <= 200
        and 1 <= args.jobs <= 500
    ):
        parser.error("keep the run bounded: see --help for the ranges")
    body = asyncio.run(run(args))
    print(body)
    command = (
        f"uv run python benchmarks/load_stack.py --seconds {args.seconds:g} "
        f"--intake-rate {args.intake_rate:g} --field-rate {args.field_rate:g} "
        f"--release-share {args.release_share:g} --technicians {args.technicians} "
        f"--jobs {args.jobs}"
    )
    write_section(
        "load-stack",
        "Load: intake and field APIs at a steady rate, five services, lag and memory",
        command,
        body,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
