"""Cost per device action against short and long jobs: snapshot plus tail vs a full fold.

    uv run python benchmarks/fieldupdates_job_length.py [--baseline 25d38c9] [--rounds 3]

Starts one `jobstream-fieldupdates serve` process per variant (this tree, and with
`--baseline REV` the fieldupdates package of that commit, extracted with `git archive` and
put first on the server's PYTHONPATH, as benchmarks/load_intake_lock.py does), each on a
fresh database on the local PostgreSQL in a Kafka namespace of its own. Each gets the same
jobs: `--jobs` holding 10 events and as many holding 500 (the flow to in progress, then
time entries, materials and notes), recorded through `POST /sync`. Then `--concurrency`
clients, each on jobs of its own, post single-action syncs (a time entry or a note) back
to back, `--actions` per job per run; runs alternate variant and job length so that both
variants see the same (shared, noisy) machine. The clients write pre-built HTTP/1.1
requests on kept-alive connections, so they take little CPU; the server's, PostgreSQL's
and the client's CPU are read from /proc for each run. Writes its section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline import shadowing
from fieldupdates_sync import TECHNICIAN, Bench, free_port, job_actions
from report import percentile, write_section

from jobstream.auth import Role, mint_token
from jobstream.auth.keys import use_key_files
from jobstream.contracts.topics import all_topic_specs
from jobstream.db import upgrade_to_head
from jobstream.messaging.admin import ensure_topics
from jobstream.settings import AuthSettings
from jobstream.testing.infra import Infra, create_database, drop_database, find_infra

REPO = Path(__file__).resolve().parents[1]
LENGTHS = (10, 500)
TABLE_HEAD = (
    "| variant | events per job | actions/s | latency p50 / p99 (ms) | server CPU per action "
    "| cores: server / PostgreSQL / client |\n|---|---|---|---|---|---|"
)
CLK = os.sysconf("SC_CLK_TCK")


def extract_baseline(rev: str, into: Path) -> str:
    """The fieldupdates package of ``rev``, laid out to shadow this tree's."""
    return shadowing(rev, ["services/fieldupdates/src/jobstream/fieldupdates"], into)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def postgres_cpu_seconds() -> float:
    """CPU time of PostgreSQL on the machine (it serves both variants).

    Every postgres process's own time, and its reaped children's (the postmaster's), so
    that backends and autovacuum workers which exit during a run still count.
    """
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            fields = text.rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / CLK
    return total


async def snapshot_loads(url: str) -> dict[str, int]:
    """How the server's job loads started (resident state, snapshot row, events)."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{url}/metrics")).text
    loads: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("jobstream_snapshot_loads_total{"):
            labels, value = line.rsplit(" ", 1)
            source = labels.split('source="', 1)[1].split('"', 1)[0]
            loads[source] = int(float(value))
    return loads


@dataclass
class Variant:
    name: str
    pythonpath: str | None
    infra: Infra
    namespace: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")
    port: int = field(default_factory=free_port)
    database_url: str = ""
    process: subprocess.Popen[bytes] | None = None
    jobs: dict[int, list[str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        await ensure_topics(self.infra.bootstrap_servers, all_topic_specs(3, self.namespace))
        self.launch()
        await self.ready()

    def launch(self) -> None:
        self.database_url = create_database(self.infra, prefix="bench")
        upgrade_to_head("jobstream.fieldupdates.db:migrations", self.database_url)
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.infra.bootstrap_servers,
            "JOBSTREAM_NAMESPACE": self.namespace,
            "JOBSTREAM_ENV": "production",
            "JOBSTREAM_LOG_LEVEL": "WARNING",
        }
        env.pop("PYTHONPATH", None)
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jobstream.fieldupdates", "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name}: fieldupdates did not become ready")
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.database_url:
            drop_database(self.infra, self.database_url)

    async def seed(self, jobs: int) -> None:
        """``jobs`` open jobs of each length, their events recorded through POST /sync."""
        bench = Bench(self.url, self.infra.bootstrap_servers, self.namespace)
        try:
            start = datetime.now(UTC) - timedelta(days=2)
            for length in LENGTHS:
                self.jobs[length] = await bench.dispatch(jobs)
                batch: list[dict[str, Any]] = []
                for wo in self.jobs[length]:
                    # The flow to in progress, then records; leave off hold, resume, complete.
                    batch += job_actions(wo, length + 3, start)[:length]
                    if len(batch) >= 1000:
                        await bench.post(batch)
                        batch = []
                if batch:
                    await bench.post(batch)
        finally:
            await bench.client.aclose()


def single_action(wo: str, n: int, at: datetime) -> bytes:
    kind, payload = (
        ("log_time", {"kind": "labour", "minutes": 5})
        if n % 2
        else ("add_note", {"text": f"Measured {n}"})
    )
    action = {
        "action_id": str(uuid.uuid4()),
        "work_order_id": wo,
        "type": kind,
        "device_time": (at + timedelta(seconds=n)).isoformat(),
        "device_seq": n,
        "payload": payload,
    }
    return json.dumps({"actions": [action]}, separators=(",", ":")).encode()


def request(port: int, token: str, body: bytes) -> bytes:
    head = (
        f"POST /sync HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def client(port: int, requests: list[bytes], latencies: list[float]) -> None:
    """Post ``requests`` one after another on one kept-alive connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for raw in requests:
            started = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200") or b'"applied":1' not in body:
                raise RuntimeError(f"unexpected answer: {head[:40]!r} {body[:200]!r}")
    finally:
        writer.close()
        await writer.wait_closed()


@dataclass
class Run:
    variant: str
    length: int
    rate: float
    latencies: list[float]
    server_cores: float
    postgres_cores: float
    client_cores: float
    server_ms_per_action: float


async def measure(
    variant: Variant, length: int, concurrency: int, actions: int, round_: int
) -> Run:
    assert variant.process is not None
    token = mint_token(
        AuthSettings(), subject=TECHNICIAN, role=Role.TECHNICIAN, technician_id=TECHNICIAN
    )
    jobs = variant.jobs[length]
    at = datetime.now(UTC) - timedelta(hours=1) + timedelta(minutes=round_)
    # Client c takes jobs c, c + concurrency, …; each job gets ``actions`` in turn.
    plans = [
        [
            request(variant.port, token, single_action(wo, round_ * actions + n, at))
            for n in range(actions)
            for wo in jobs[c::concurrency]
        ]
        for c in range(concurrency)
    ]
    latencies: list[float] = []
    server0, pg0 = cpu_seconds(variant.process.pid), postgres_cpu_seconds()
    client0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client(variant.port, plan, latencies) for plan in plans))
    wall = time.perf_counter() - wall0
    server = cpu_seconds(variant.process.pid) - server0
    postgres = postgres_cpu_seconds() - pg0
    own = time.process_time() - client0
    return Run(
        variant.name,
        length,
        len(latencies) / wall,
        latencies,
        server / wall,
        postgres / wall,
        own / wall,
        1000 * server / len(latencies),
    )


async def main_async(
    args: argparse.Namespace,
) -> tuple[list[Run], list[str], dict[str, int]]:
    use_key_files(tempfile.mkdtemp(prefix="jobstream-bench-keys-"))
    names: list[str] = []
    with find_infra() as infra, tempfile.TemporaryDirectory() as tmp:
        variants = [Variant("this commit", None, infra)]
        if args.baseline:
            path = extract_baseline(args.baseline, Path(tmp))
            variants.insert(0, Variant(f"baseline {args.baseline}", path, infra))
        names = [v.name for v in variants]
        runs: list[Run] = []
        try:
            for variant in variants:
                started = time.monotonic()
                await variant.start()
                await variant.seed(args.jobs)
                print(f"{variant.name}: seeded in {time.monotonic() - started:.0f} s", flush=True)
            for variant in variants:  # warm-up: connections, caches, the first snapshots
                for length in LENGTHS:
                    await measure(variant, length, args.concurrency, 1, 0)
            for round_ in range(1, args.rounds + 1):
                for length in LENGTHS:
                    for variant in variants:
                        run = await measure(variant, length, args.concurrency, args.actions, round_)
                        runs.append(run)
                        print(
                            f"round {round_} {variant.name}, {length} events: "
                            f"{run.rate:.0f} actions/s, server {run.server_cores:.2f} cores, "
                            f"PostgreSQL {run.postgres_cores:.2f}, client {run.client_cores:.2f}",
                            flush=True,
                        )
            loads = await snapshot_loads(variants[-1].url)
        finally:
            for variant in variants:
                variant.stop()
    return runs, names, loads


def med(values: list[float]) -> float:
    return statistics.median(values)


def row(runs: list[Run]) -> str:
    ms = [1000 * x for r in runs for x in r.latencies]
    return (
        f"| {runs[0].variant} | {runs[0].length} | **{med([r.rate for r in runs]):.0f}** "
        f"({', '.join(f'{r.rate:.0f}' for r in runs)}) | "
        f"{statistics.median(ms):.1f} / {percentile(ms, 99):.1f} | "
        f"{med([r.server_ms_per_action for r in runs]):.1f} ms | "
        + " / ".join(
            f"{med([getattr(r, f'{side}_cores') for r in runs]):.2f}"
            for side in ("server", "postgres", "client")
        )
        + " |"
    )


def report(
    runs: list[Run],
    names: list[str],
    args: argparse.Namespace,
    load: tuple[float, float],
    loads: dict[str, int],
) -> str:
    def of(name: str, length: int) -> list[Run]:
        return [r for r in runs if r.variant == name and r.length == length]

    table = "\n".join(row(of(name, length)) for name in names for length in LENGTHS)

    def ratio(name: str) -> float:
        return med([r.rate for r in of(name, 500)]) / med([r.rate for r in of(name, 10)])

    ratios = "\n".join(
        f"- {name}: {ratio(name):.2f} (actions/s at 500 events ÷ at 10)" for name in names
    )
    grown = args.actions * args.rounds + 1  # and one in the warm-up
    return f"""
One `jobstream-fieldupdates serve` process per variant (API, consumer and outbox relay),
each on a fresh database on the local PostgreSQL. Each holds {args.jobs} open jobs of 10
events and {args.jobs} of 500 (in progress; time entries, materials and notes), recorded
through `POST /sync`. {args.concurrency} clients, each on jobs of its own, post single-action
`POST /sync` requests (a time entry or a note, applied) back to back, {args.actions} per job
per run, so a job grows by {grown} events over the benchmark (10 → {10 + grown},
500 → {500 + grown}). Runs alternate variant and job length, {args.rounds} per cell after
a warm-up; medians over the runs (each run's rate in brackets), latency over every action
of the cell.

All on one machine of {os.cpu_count()} cores: the server process, PostgreSQL and the client
share them. The cores each used are measured from /proc during the runs (server process /
every PostgreSQL process / the client); the client writes pre-built requests on kept-alive
connections, so it takes little of them.

{TABLE_HEAD}
{table}

Cost per action flat in the job's length, target ≥ 0.80:
{ratios}

Where this commit's job loads started, over the whole run (seeding included; the
`jobstream_snapshot_loads_total` counter): {loads.get("resident", 0)} from the state the
process kept resident, {loads.get("snapshot", 0)} from the snapshot row,
{loads.get("events", 0)} from the first event. A job's row is rewritten every 20 events,
and the process keeps the latest state of the 256 jobs it last touched, so an action reads
only the events since; a process that has not seen the job decodes the row and folds at
most 19 events onto it.

The 1-minute load average was {load[0]:.1f} before and {load[1]:.1f} after the run; the
machine is shared, so compare figures within one run.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", default="", help="a commit to compare with")
    parser.add_argument("--jobs", type=int, default=40, help="jobs of each length")
    parser.add_argument("--actions", type=int, default=4, help="actions per job per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if not (
        1 <= args.rounds <= 10
        and 4 <= args.jobs <= 200
        and 1 <= args.actions <= 20
        and 1 <= args.concurrency <= min(16, args.jobs)
    ):
        parser.error("keep --rounds 1..10, --jobs 4..200, --actions 1..20, --concurrency 1..16")
    load_before = os.getloadavg()[0]
    runs, names, loads = asyncio.run(main_async(args))
    body = report(runs, names, args, (load_before, os.getloadavg()[0]), loads)
    print(body)
    command = (
        f"uv run python benchmarks/fieldupdates_job_length.py --jobs {args.jobs} "
        f"--actions {args.actions} --rounds {args.rounds} --concurrency {args.concurrency}"
        + (f" --baseline {args.baseline}" if args.baseline else "")
    )
    write_section(
        "fieldupdates-job-length",
        "Fieldupdates: cost per action and the job's length",
        command,
        body,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
