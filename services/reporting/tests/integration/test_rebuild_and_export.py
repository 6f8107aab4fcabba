"""Rebuilding the projections gives the same rows; exported events equal those produced."""

import asyncio
import dataclasses
import json
from datetime import UTC, datetime

import pyarrow.dataset as ds
import pytest
from sqlalchemy import select

from jobstream.messaging.consumer import ConsumerRunner
from jobstream.reporting.app import consumers
from jobstream.reporting.db import queries
from jobstream.reporting.db.tables import consumer_tables, event_log, jobs, technicians
from jobstream.reporting.export import ExportFormat, export_events
from jobstream.reporting.projections import fold_job, job_row
from jobstream.reporting.rebuild import rebuild
from jobstream.testing.contract_suite import RunningConsumer, publish

pytestmark = pytest.mark.integration


async def snapshot(engine):
    async with engine.connect() as conn:
        return {
            "jobs": [
                dict(r._mapping)
                for r in await conn.execute(select(jobs).order_by(jobs.c.work_order_id))
            ],
            "technicians": [
                dict(r._mapping)
                for r in await conn.execute(
                    select(technicians).order_by(technicians.c.technician_id)
                )
            ],
        }


async def test_a_rebuild_from_the_log_gives_the_same_rows(project, week):
    engine, _topics, _story = await project(week.events)
    before = await snapshot(engine)
    reports = [await rebuild(engine, "jobs"), await rebuild(engine, "technicians")]
    assert await snapshot(engine) == before
    assert [r.rows for r in reports] == [len(before["jobs"]), len(before["technicians"])]


async def test_a_rebuild_keeps_the_table_layout_the_migrations_made(project, week, infra):
    from jobstream.reporting.db.tables import metadata
    from jobstream.testing.schema_drift import schema_differences

    engine, _topics, _story = await project(week.events)
    await rebuild(engine, "jobs")
    await rebuild(engine, "technicians")
    assert schema_differences(engine.url.render_as_string(False), metadata) == []


async def test_a_rebuild_while_the_projector_runs_misses_nothing(project, week, infra):
    engine, topics, _story = await project(week.events)
    later = type(week)(run=week.run + "x")
    spec = dataclasses.replace(
        consumers(None)[0], topics=tuple(topics.values()), group_id=f"reporting.live.{week.run}"
    )
    live = RunningConsumer(
        ConsumerRunner(spec, engine, consumer_tables, bootstrap_servers=infra.bootstrap_servers)
    )
    story = later.envelopes()

    async def publish_more():
        for name, topic in topics.items():
            await publish(
                infra.bootstrap_servers, topic, [e for e in story if e.data.topic == name]
            )

    await asyncio.gather(publish_more(), rebuild(engine, "jobs"))
    await live.wait_applied(len(week.events) + len(later.events))
    await live.stop()
    async with engine.connect() as conn:
        subjects = [
            r.subject
            for r in await conn.execute(
                select(event_log.c.subject).where(event_log.c.topic != "technicians").distinct()
            )
        ]
        assert len(subjects) == 14
        for subject in subjects:
            row = await queries.job(conn, subject)
            expected = job_row(fold_job(subject, await queries.events_of(conn, subject)))
            assert row == expected, subject


def expected_rows(story):
    return sorted(
        (
            {
                "id": e.id,
                "source": e.source,
                "specversion": "1.0",
                "type": e.type,
                "subject": e.subject,
                "time": e.time,
                "datacontenttype": "application/json",
                "schemaversion": e.schema_version,
                "sequence": e.sequence,
                "correlationid": e.correlation_id,
                "causationid": e.causation_id,
                "topic": e.data.topic,
                "data": e.data.model_dump(mode="json"),
                "date": e.time.date().isoformat(),
            }
            for e in story
        ),
        key=lambda r: r["id"],
    )


def read_back(directory, fmt):
    if fmt is ExportFormat.PARQUET:
        dataset = ds.dataset(directory, format="parquet", partitioning="hive")
        rows = dataset.to_table().to_pylist()
    else:
        rows = []
        for path in directory.rglob("*.jsonl"):
            parts = dict(p.split("=", 1) for p in path.parent.relative_to(directory).parts)
            for line in path.read_text().splitlines():
                row = json.loads(line)
                row["time"] = datetime.fromisoformat(row["time"])
                rows.append({**row, **parts})
    for row in rows:
        row["data"] = json.loads(row["data"])
        row["time"] = row["time"].astimezone(UTC)
    return sorted(rows, key=lambda r: r["id"])


@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_exported_rows_equal_the_events_produced(project, week, tmp_path, fmt):
    engine, _topics, story = await project(week.events)
    async with engine.connect() as conn:
        result = await export_events(conn, tmp_path, fmt=fmt)
    assert result.events == len(story)
    assert read_back(result.directory, fmt) == expected_rows(story)


async def test_an_export_of_some_types_in_a_time_range(project, week, tmp_path):
    engine, _topics, story = await project(week.events)
    since, until = datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    types = ["JobCompleted", "InvoiceIssued"]
    async with engine.connect() as conn:
        result = await export_events(conn, tmp_path, types=types, since=since, until=until)
    wanted = [e for e in story if e.type in types and since <= e.time < until]
    assert len(wanted) == 4  # J1 and J3, completed and invoiced on Monday
    assert read_back(result.directory, ExportFormat.PARQUET) == expected_rows(wanted)
    partitions = sorted(str(p.relative_to(result.directory)) for p in result.directory.iterdir())
    assert partitions == ["type=InvoiceIssued", "type=JobCompleted"]
