"""Reporting: projector catch-up and rebuild rates, and KPI latency over a synthetic year.

The projector's rates are measured beside the raw consume rate.

    uv run python benchmarks/reporting_bench.py [--jobs 1500] [--runs 3] \
        [--year-jobs 60000] [--technicians 50] [--requests 5] [--baseline REV]

Part 1 publishes ``--jobs`` synthetic jobs (about seven events each, every topic) to fresh
topics and, in the same run, measures: a bare consumer reading and decoding every record
(the raw consume rate); reporting.projector catching up from offset zero into a fresh
database (timed inside the runner from the moment it has its partitions to the commit of
the last record, so the group join is left out and reported apart), as deployed and again
with the runner's default batches; `rebuild jobs` refolding them from the event log; and
`rebuild --from-kafka` re-reading the topics into a new generation of every table. Part 2
loads a year of synthetic work (``--year-jobs`` jobs for ``--technicians`` technicians)
straight into a reporting database and times GET /kpis in process. Uses the shared broker
and database (never restarts them); writes its section of docs/benchmarks.md with the
machine's load average, as other work shares the cores.

``--baseline REV`` also measures part 1 with the reporting package of that commit (its
projections and migrations; extracted with `git archive` and put first on a child
process's PYTHONPATH, as benchmarks/baseline.py lays out), one child run after each run of
this tree's, over the same events, and reports both side by side with their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline import shadowing
from report import percentile, write_section

from jobstream.auth import Role, mint_token
from jobstream.auth.keys import use_key_files
from jobstream.contracts import topics as topic_names
from jobstream.contracts.common import Priority
from jobstream.contracts.topics import LOG_TOPIC_CONFIG, TopicSpec
from jobstream.db import async_engine, upgrade_to_head
from jobstream.messaging.admin import ensure_topics
from jobstream.messaging.consumer import ConsumerRunner, ConsumerSpec
from jobstream.messaging.envelope import from_kafka
from jobstream.reporting.app import PROJECTOR_POLL_RECORDS, consumers, definition
from jobstream.reporting.db import queries
from jobstream.reporting.db.tables import LIVE, consumer_tables, event_log
from jobstream.reporting.projections import (
    fold_job,
    fold_technician,
    job_rows,
    log_values,
    technician_row,
)
from jobstream.reporting.rebuild import rebuild, rebuild_from_kafka
from jobstream.service import Role as ProcessRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings, DatabaseSettings
from jobstream.testing.builders import (
    JobStory,
    envelopes_at_business_time,
    technician_with_shifts,
)
from jobstream.testing.contract_suite import RunningConsumer, publish
from jobstream.testing.infra import Infra, create_database, drop_database, find_infra
from jobstream.testing.waiting import wait_until

MIGRATIONS = "jobstream.reporting.db:migrations"
PRIORITIES = [Priority.P1, Priority.P2, Priority.P3, Priority.P4]
RESPOND = {Priority.P1: 2, Priority.P2: 4, Priority.P3: 8, Priority.P4: 72}


def synthetic(jobs: int, technicians: int, start: datetime, days: int, seed: int = 7) -> list:
    """A business's work: jobs logged, released, scheduled, visited, completed and invoiced.

    Some jobs have parts, some a second visit, and some are left open.
    """
    rng = random.Random(seed)
    techs = [f"tech-{i:03d}" for i in range(technicians)]
    events: list = [
        technician_with_shifts(t, [(d, "08:00", "16:30") for d in range(5)], start - timedelta(1))
        for t in techs
    ]
    for n in range(jobs):
        logged = start + timedelta(seconds=rng.uniform(0, days * 86_400))
        priority = rng.choices(PRIORITIES, weights=[1, 3, 4, 2])[0]
        story = JobStory(
            work_order_id=f"wo-{n:06d}",
            customer_id=f"cust-{rng.randrange(2000):04d}",
            technician_id=rng.choice(techs),
            priority=priority,
            job_type=rng.choice(["boiler_service", "leak_repair", "hvac_maintenance"]),
            start=logged,
            site_id=f"site-{rng.randrange(4000):04d}",
            asset_id=f"asset-{rng.randrange(6000):04d}",
            respond_within=timedelta(hours=RESPOND[priority]),
            resolve_within=timedelta(hours=RESPOND[priority] * 3),
        )
        scheduled = logged + timedelta(minutes=rng.uniform(1, 60))
        arrived = scheduled + timedelta(minutes=rng.uniform(20, 6 * 60))
        events += [story.request_logged(), story.released(), story.scheduled_at(scheduled)]
        if rng.random() < 0.03:
            continue  # still waiting
        events.append(story.arrived(arrived))
        minutes = rng.randint(20, 180)
        events.append(story.labour_logged(arrived + timedelta(minutes=5), minutes))
        if rng.random() < 0.4:
            events.append(story.material_used_at(arrived + timedelta(minutes=10), "VALVE-15", 1000))
        done = arrived + timedelta(minutes=minutes + 5)
        if rng.random() < 0.12:
            events.append(story.incomplete(done))
            done += timedelta(days=1)
            events.append(story.arrived(done - timedelta(minutes=30)))
        events.append(story.completed_at(done, labour_minutes=minutes))
        events.append(
            story.invoiced_at(done + timedelta(minutes=30), rng.randint(8_000, 60_000), number=n)
        )
    return events


async def raw_consume(bootstrap: str, topics: list[str], count: int) -> float:
    """Seconds for a bare consumer to read and decode ``count`` records."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        started, seen = time.perf_counter(), 0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            for records in batches.values():
                for r in records:
                    from_kafka(r.key, r.value, list(r.headers or ()))
                seen += sum(len(records) for records in batches.values())
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def part_one(infra, job_count: int, runs: int) -> dict[str, list[float]]:
    events = synthetic(job_count, 10, datetime(2026, 1, 5, tzinfo=UTC), 30)
    story = envelopes_at_business_time(events)
    rates: dict[str, list[float]] = {
        "raw": [],
        "project": [],
        "per_partition": [],
        "join": [],
        "rebuild": [],
        "kafka": [],
        "switch_ms": [],
    }
    for _ in range(runs):
        run = uuid.uuid4().hex[:8]
        names = {t: f"bench-{run}.{t}" for t in topic_names.EVENT_TOPICS}
        await ensure_topics(
            infra.bootstrap_servers,
            [TopicSpec(n, 3, dict(LOG_TOPIC_CONFIG)) for n in names.values()]
            + [TopicSpec(f"{n}.dlq", 1, dict(LOG_TOPIC_CONFIG)) for n in names.values()],
        )
        for name, topic in names.items():
            await publish(
                infra.bootstrap_servers, topic, [e for e in story if e.data.topic == name]
            )
        seconds = await raw_consume(infra.bootstrap_servers, list(names.values()), len(story))
        rates["raw"].append(len(story) / seconds)
        url = create_database(infra, prefix="bench")
        try:
            upgrade_to_head(MIGRATIONS, url)
            engine = async_engine(url, pool_size=3)
            spec = dataclasses.replace(
                consumers(None)[0], topics=tuple(names.values()), group_id=f"bench.{run}"
            )
            rate, join = await catch_up(infra, engine, spec, len(story))
            rates["project"].append(rate)
            rates["join"].append(join)
            rates["per_partition"].append(await per_partition(infra, spec, len(story)))
            report = await rebuild(engine, "jobs")
            rates["rebuild"].append(report.events_per_second)
            replay = await rebuild_from_kafka(
                engine, spec, consumer_tables, bootstrap_servers=infra.bootstrap_servers
            )
            rates["kafka"].append(replay.records_per_second)
            rates["switch_ms"].append(replay.switch_seconds * 1000)
            await engine.dispose()
        finally:
            drop_database(infra, url)
    return rates | {"events": [float(len(story))]}


class TimedRunner(ConsumerRunner):
    """Notes when the group first gave it partitions, and what its commits have applied.

    That is how many records the transactions committed so far applied, with the moment of
    the last commit.
    """

    assigned_at: float | None = None
    committed_at = 0.0
    committed = 0

    async def seek_to_stored(self, partitions: list[TopicPartition]) -> None:
        # On entry: aiokafka may hand out records while the rebalance listener still runs.
        if self.assigned_at is None:
            self.assigned_at = time.perf_counter()
        await super().seek_to_stored(partitions)

    async def apply_batches(
        self, batches: Mapping[TopicPartition, list[ConsumerRecord]]
    ) -> dict[TopicPartition, int]:
        next_offsets = await super().apply_batches(batches)
        self.committed_at = time.perf_counter()
        self.committed = self.stats.applied + self.stats.duplicates + self.stats.dead_lettered
        return next_offsets


async def catch_up(
    infra: Infra, engine: AsyncEngine, spec: ConsumerSpec, count: int
) -> tuple[float, float]:
    """(events/s, seconds the group join took), timed inside the runner.

    The rate is from the first assignment to the commit of the last record. It is timed
    inside the runner because a poll can hold the whole backlog.
    """
    runner = TimedRunner(spec, engine, consumer_tables, bootstrap_servers=infra.bootstrap_servers)
    started = time.perf_counter()
    running = RunningConsumer(runner)
    await wait_until(lambda: runner.committed >= count, timeout=1800, message="caught up")
    await running.stop()
    assert runner.assigned_at is not None
    return count / (runner.committed_at - runner.assigned_at), runner.assigned_at - started


async def per_partition(infra: Infra, spec: ConsumerSpec, count: int) -> float:
    """The projector's rate from offset zero with the runner's default batches instead.

    It runs into another fresh database, with a transaction per partition and polls of 200
    records, as it ran before docs/adr/0068.
    """
    url = create_database(infra, prefix="bench")
    try:
        upgrade_to_head(MIGRATIONS, url)
        engine = async_engine(url, pool_size=3)
        group = f"{spec.group_id}.per-partition"
        spec = dataclasses.replace(spec, group_id=group, across_partitions=False, max_records=None)
        rate, _join = await catch_up(infra, engine, spec, count)
        await engine.dispose()
        return rate
    finally:
        drop_database(infra, url)


async def load_year(engine, job_count: int, technician_count: int, start: datetime) -> int:
    """Fold a synthetic year in process and write the log and projections in bulk."""
    events = synthetic(job_count, technician_count, start, 365)
    rows = [log_values(e) for e in envelopes_at_business_time(events)]
    grouped: dict[tuple[bool, str], list] = {}
    for row in rows:
        grouped.setdefault((row["topic"] == "technicians", row["subject"]), []).append(row)
    facts = [fold_job(s, r) for (tech, s), r in grouped.items() if not tech]
    tech_rows = [technician_row(fold_technician(s, r)) for (tech, s), r in grouped.items() if tech]
    async with engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            await conn.execute(event_log.insert(), rows[i : i + 5000])
        for i in range(0, len(facts), 2000):
            part = facts[i : i + 2000]
            await queries.replace_job_rows(
                conn, LIVE, [f["work_order_id"] for f in part], job_rows(part)
            )
        await queries.upsert(conn, LIVE.technicians, "technician_id", tech_rows)
        await conn.execute(text("ANALYZE"))
    return len(rows)


async def part_two(infra, job_count: int, technician_count: int, requests: int) -> dict:
    start = datetime(2025, 1, 6, tzinfo=UTC)
    url = create_database(infra, prefix="bench")
    try:
        upgrade_to_head(MIGRATIONS, url)
        engine = async_engine(url, pool_size=3)
        loaded = time.perf_counter()
        event_count = await load_year(engine, job_count, technician_count, start)
        load_seconds = time.perf_counter() - loaded
        await engine.dispose()
        settings = ServiceSettings()
        settings.database = DatabaseSettings(DATABASE_URL=url)
        app = create_app(definition(), frozenset({ProcessRole.API}), settings)
        token = mint_token(AuthSettings(), subject="bench", role=Role.ANALYST)
        headers = {"Authorization": f"Bearer {token}"}
        end = start + timedelta(days=365)
        year = {"start": start, "end": end}
        cases: dict[str, tuple[dict, int]] = {
            "one month": ({"start": end - timedelta(days=30), "end": end}, requests),
            "one quarter": ({"start": end - timedelta(days=91), "end": end}, requests),
            "the year": (year, requests),
            "the year, by technician": (year | {"group_by": "technician"}, requests),
            "the year, by customer": (year | {"group_by": "customer"}, requests),
            "the year, first-time fix within 14 days, planned visits count": (
                year | {"ftf_window_days": 14, "ftf_planned_visits_count": "true"},
                requests,
            ),
            "one month as of its end (folded from the log)": (
                {"start": end - timedelta(days=30), "end": end, "as_of": end},
                max(requests // 2, 1),
            ),
        }
        timings: dict[str, list[float]] = {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://r", timeout=300) as c:
            for name, (params, count) in cases.items():
                query = {
                    k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()
                }
                await c.get("/kpis", params=query, headers=headers)  # warm
                timings[name] = []
                for _ in range(count):
                    t0 = time.perf_counter()
                    response = await c.get("/kpis", params=query, headers=headers)
                    response.raise_for_status()
                    timings[name].append(time.perf_counter() - t0)
        await app.state.runtime.engine.dispose()
        return {"events": event_count, "load_seconds": load_seconds, "timings": timings}
    finally:
        drop_database(infra, url)


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


PART_ONE = ("project", "per_partition", "rebuild", "kafka")


def baseline_part_one(pythonpath: str, job_count: int) -> dict[str, list[float]]:
    """One run of part 1 in a child process whose reporting package is the baseline's."""
    env = dict(os.environ, PYTHONPATH=pythonpath)
    done = subprocess.run(
        [sys.executable, __file__, "--jobs", str(job_count), "--part-one-json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    rates: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return rates


def part_one_compared(
    infra: Infra, job_count: int, runs: int, baseline: str, into: Path
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Part 1 for this tree and, run by run in turn, for the baseline commit's reporting."""
    path = shadowing(baseline, ["services/reporting/src/jobstream/reporting"], into)
    here: dict[str, list[float]] = {}
    there: dict[str, list[float]] = {}
    for _ in range(runs):
        for rates, measure in (
            (here, lambda: asyncio.run(part_one(infra, job_count, 1))),
            (there, lambda: baseline_part_one(path, job_count)),
        ):
            for key, values in measure().items():
                rates.setdefault(key, []).extend(values)
    return here, there


def compared_lines(med: dict[str, float], base: dict[str, float], baseline: str) -> list[str]:
    """The table of this tree's part 1 rates beside the baseline's, from the same run."""
    names = {
        "project": "reporting.projector from offset zero (as deployed)",
        "per_partition": "the same with the runner's default batches",
        "rebuild": "`rebuild jobs` from the event log",
        "kafka": "`rebuild --from-kafka`",
    }
    lines = [
        f"**Job snapshots vs the baseline {baseline}** (a refold of every job a poll touched; "
        "same events, the two measured in turn within each run, medians, events/s):",
        "",
        f"| what | {baseline} | this tree | this ÷ {baseline} |",
        "|---|---|---|---|",
    ]
    for key, name in names.items():
        lines.append(
            f"| {name} | {base[key]:,.0f} | {med[key]:,.0f} | {med[key] / base[key]:.2f} |"
        )
    return [*lines, ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--year-jobs", type=int, default=60_000)
    parser.add_argument("--technicians", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--baseline", default="", help="a commit to compare part 1 with")
    parser.add_argument("--part-one-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part_one_json:
        # A baseline's child run: part 1 once, its rates as the last line of stdout.
        with find_infra() as infra:
            print(json.dumps(asyncio.run(part_one(infra, args.jobs, 1))))
        return 0
    # Tokens for the in-process API are minted and checked with a throwaway secret.
    use_key_files(tempfile.mkdtemp(prefix="jobstream-bench-keys-"))

    load_before = os.getloadavg()
    with find_infra() as infra, tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            one, base_rates = part_one_compared(
                infra, args.jobs, args.runs, args.baseline, Path(tmp)
            )
        else:
            one, base_rates = asyncio.run(part_one(infra, args.jobs, args.runs)), {}
        two = asyncio.run(part_two(infra, args.year_jobs, args.technicians, args.requests))
    load_after = os.getloadavg()
    med = {k: statistics.median(v) for k, v in one.items()}
    base = {k: statistics.median(v) for k, v in base_rates.items()}
    raw = med["raw"]
    lines = [
        f"**Projector catch-up vs raw consume** ({int(med['events'])} events of {args.jobs} "
        f"jobs on all five topics, 3 partitions each; {args.runs} runs, medians, same run):",
        "",
        "| what | events/s | ÷ raw consume |",
        "|---|---|---|",
        f"| raw consume: bare consumer reading and decoding every record | {raw:,.0f} | 1 |",
        "| reporting.projector from offset zero: each poll (every partition's records, up to "
        f"{PROJECTOR_POLL_RECORDS:,}) in one transaction, logged in one statement, each job it "
        "touched folded onto its snapshot or refolded, each technician refolded | "
        f"{med['project']:,.0f} | "
        f"{med['project'] / raw:.3f} |",
        "| the same projector with the runner's default batches (a transaction per partition, "
        f"polls of 200 records), as before docs/adr/0068 | {med['per_partition']:,.0f} | "
        f"{med['per_partition'] / raw:.3f} |",
        f"| `rebuild jobs` from reporting's event log | {med['rebuild']:,.0f} | "
        f"{med['rebuild'] / raw:.3f} |",
        "| `rebuild --from-kafka`: every topic from offset zero into a new generation of every "
        f"table, then the switch | {med['kafka']:,.0f} | {med['kafka'] / raw:.3f} |",
        "",
        "The projector's rate is timed from when the group gave it its partitions to the "
        "commit of the transaction that applied the last record; joining the group took a "
        f"further {med['join'] * 1000:.0f} ms. The switch of `rebuild --from-kafka` held the "
        f"live projector for {med['switch_ms']:.0f} ms.",
        "",
        *(compared_lines(med, base, args.baseline) if base else []),
        f"**GET /kpis over a year** of synthetic work: {args.year_jobs:,} jobs for "
        f"{args.technicians} technicians (a mid-size business), {two['events']:,} events, "
        f"loaded in {two['load_seconds']:.0f} s; in process (httpx ASGI transport, no network), "
        f"{args.requests} requests each after one warm-up (half as many as of an instant):",
        "",
        "| period | p50 / p90 / max (ms) |",
        "|---|---|",
    ]
    for name, seconds in two["timings"].items():
        ms = [s * 1000 for s in seconds]
        lines.append(
            f"| {name} | {statistics.median(ms):.0f} / {percentile(ms, 90):.0f} / {max(ms):.0f} |"
        )
    lines += [
        "",
        "Now (no `as_of`) every KPI is an SQL aggregate over the per-job measures, under any "
        "definition (docs/adr/0053); as of an instant, the jobs that can matter are folded "
        "from the log and computed in Python.",
        "",
        "The machine is shared (2 cores, other engineers' tests and benchmarks running): the "
        f"1, 5 and 15-minute load averages were {_load(load_before)} before and "
        f"{_load(load_after)} after this run; compare figures within one run.",
    ]
    command = (
        f"uv run python benchmarks/reporting_bench.py --jobs {args.jobs} --runs {args.runs} "
        f"--year-jobs {args.year_jobs} --technicians {args.technicians} "
        f"--requests {args.requests}" + (f" --baseline {args.baseline}" if args.baseline else "")
    )
    write_section(
        "reporting", "Reporting: projection, rebuild and KPI latency", command, "\n".join(lines)
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
