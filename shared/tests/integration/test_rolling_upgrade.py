"""Old and new releases side by side on the real broker: no dead letter (docs/adr/0082).

The "old" release is this tree's contracts as registered. The "new" release is the same
catalogue whose ``JobCompleted`` gained an optional field, ``van_registration``, as the
next release of fieldupdates might add it without a new schema version. Each consumer
keeps the data it read in a table of its own, so the tests see what reached its state.
The event store's load path is read the same way: during a rollout an older instance of a
service loads streams a newer instance appended to.
"""

import dataclasses
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from sqlalchemy import Column, MetaData, Table, Text, create_engine, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobstream.contracts.base import EventRegistry, registry
from jobstream.contracts.field import JobCompleted, JobCompletedV1
from jobstream.db import async_engine
from jobstream.eventstore.store import EventStore
from jobstream.eventstore.tables import define_events_table
from jobstream.messaging.consumer import ConsumerRunner, ConsumerSpec, ConsumerTables
from jobstream.messaging.envelope import Envelope
from jobstream.messaging.redrive import list_dead_letters, redrive
from jobstream.messaging.tables import define_consumer_tables
from jobstream.settings import normalise_database_url
from jobstream.testing.contract_suite import RunningConsumer, publish

pytestmark = pytest.mark.integration

metadata = MetaData()
tables = ConsumerTables(*define_consumer_tables(metadata))
events = define_events_table(metadata)
kept = Table(
    "kept",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("contract", Text, nullable=False),
    Column("data", JSONB, nullable=False),
)

next_release = EventRegistry()


@next_release.register
class JobCompletedNext(JobCompletedV1):
    """JobCompleted v1 as the next release writes it: one optional field more."""

    van_registration: str | None = None


# Not registered: only its producer knows it (a consumer of the release that has it would
# also hold the upcaster from v1).
class JobCompletedV2(JobCompletedV1):
    """JobCompleted as a release that moved it to a new schema version writes it."""

    schema_version: ClassVar[int] = 2


def completed_fields(work_order_id: str) -> dict:
    now = datetime.now(UTC)
    return {
        "work_order_id": work_order_id,
        "technician_id": "tech-1",
        "customer_id": "cust-1",
        "job_type": "leak_repair",
        "priority": "P3",
        "completed_at": now,
        "device_time": now,
        "received_at": now,
        "labour_minutes": 45,
        "work_done": "Replaced the valve",
        "first_time_fix": True,
    }


async def keep(conn: AsyncConnection, envelope: Envelope) -> None:
    """What a consumer's state holds of the event: exactly what it parsed."""
    await conn.execute(
        kept.insert().values(
            event_id=envelope.id,
            contract=type(envelope.data).__name__,
            data=envelope.data.model_dump(mode="json"),
        )
    )


def consumer(topic: str, group: str, reader: EventRegistry) -> ConsumerSpec:
    return ConsumerSpec(group, (topic,), {"JobCompleted": keep}, reader=reader)


@pytest.fixture
def db_url(database_factory):
    url = database_factory(None)
    sync = create_engine(normalise_database_url(url))
    metadata.create_all(sync)
    sync.dispose()
    return url


async def consume(
    infra, engine: AsyncEngine, spec: ConsumerSpec, count: int
) -> tuple[ConsumerRunner, dict[str, tuple[str, dict]]]:
    """Run ``spec`` on the real broker until ``count`` records are handled; what it kept."""
    running = RunningConsumer(
        ConsumerRunner(spec, engine, tables, bootstrap_servers=infra.bootstrap_servers)
    )
    await running.wait_applied(count)
    await running.stop()
    async with engine.connect() as conn:
        rows = await conn.execute(select(kept.c.event_id, kept.c.contract, kept.c.data))
        return running.runner, {r.event_id: (r.contract, r.data) for r in rows}


async def test_an_old_consumer_reads_what_a_new_producer_wrote(infra, db_url, topic_factory):
    topic = await topic_factory("upgrade", partitions=1)
    newer = JobCompletedNext(**completed_fields("wo-new-1"), van_registration="AB12 CDE")
    plain = JobCompletedNext(**completed_fields("wo-new-2"))
    sent = [Envelope.new(e, source="jobstream/fieldupdates") for e in (newer, plain)]
    await publish(infra.bootstrap_servers, topic, sent)

    engine = async_engine(db_url)
    spec = consumer(topic, "upgrade.old", registry)
    runner, state = await consume(infra, engine, spec, len(sent))

    assert (runner.stats.applied, runner.stats.dead_lettered) == (2, 0)
    assert await list_dead_letters(engine, tables, spec.group_id) == []
    # The old release read its own contract, and the field it does not know stayed out.
    first = state[sent[0].id]
    assert first[0] == "JobCompletedV1"
    assert "van_registration" not in first[1]
    assert JobCompleted.read(first[1]) == JobCompleted.read(newer.model_dump())
    await engine.dispose()


async def test_a_new_consumer_reads_what_an_old_producer_wrote(infra, db_url, topic_factory):
    topic = await topic_factory("upgrade", partitions=1)
    older = JobCompleted(**completed_fields("wo-old-1"))
    sent = [Envelope.new(older, source="jobstream/fieldupdates")]
    await publish(infra.bootstrap_servers, topic, sent)

    engine = async_engine(db_url)
    spec = consumer(topic, "upgrade.new", next_release)
    runner, state = await consume(infra, engine, spec, len(sent))

    assert (runner.stats.applied, runner.stats.dead_lettered) == (1, 0)
    assert await list_dead_letters(engine, tables, spec.group_id) == []
    contract, data = state[sent[0].id]
    assert contract == "JobCompletedNext"
    assert data == {**older.model_dump(mode="json"), "van_registration": None}
    await engine.dispose()


async def test_a_newer_schema_version_is_still_dead_lettered_naming_it(
    infra, db_url, topic_factory
):
    """Fields may be added within a version; a new version is refused, clearly, as before."""
    topic = await topic_factory("upgrade", partitions=1)
    sent = [
        Envelope.new(JobCompletedV2(**completed_fields("wo-v2")), source="jobstream/fieldupdates"),
        Envelope.new(JobCompleted(**completed_fields("wo-v1")), source="jobstream/fieldupdates"),
    ]
    await publish(infra.bootstrap_servers, topic, sent)

    engine = async_engine(db_url)
    spec = consumer(topic, "upgrade.old", registry)
    runner, state = await consume(infra, engine, spec, len(sent))

    assert (runner.stats.applied, runner.stats.dead_lettered) == (1, 1)
    dead = await list_dead_letters(engine, tables, spec.group_id)
    assert [d.event_id for d in dead] == [sent[0].id]
    assert "unknown schema version 2 for JobCompleted" in dead[0].error
    assert list(state) == [sent[1].id]
    await engine.dispose()


async def test_a_newer_version_dead_lettered_during_the_rollout_is_redriven_once_upgraded(
    infra, db_url, topic_factory
):
    """The operator's way out (docs/operations/rolling-upgrades.md): upgrade, then redrive."""
    topic = await topic_factory("upgrade", partitions=1)
    sent = [
        Envelope.new(JobCompletedV2(**completed_fields("wo-v2")), source="jobstream/fieldupdates")
    ]
    await publish(infra.bootstrap_servers, topic, sent)
    engine = async_engine(db_url)
    old_spec = consumer(topic, "upgrade.redrive", registry)
    runner, state = await consume(infra, engine, old_spec, len(sent))
    assert (runner.stats.dead_lettered, state) == (1, {})

    upgraded = EventRegistry()
    upgraded.register(JobCompletedV1)
    upgraded.register(JobCompletedV2)
    upgraded.upcaster("JobCompleted", 1)(dict)
    report = await redrive(engine, dataclasses.replace(old_spec, reader=upgraded), tables)

    assert (report.applied, report.still_failing) == (1, 0)
    async with engine.connect() as conn:
        rows = await conn.execute(select(kept.c.event_id, kept.c.contract))
        assert [tuple(r) for r in rows] == [(sent[0].id, "JobCompletedV2")]
    assert await list_dead_letters(engine, tables, old_spec.group_id) == []
    await engine.dispose()


def test_the_new_producer_still_refuses_a_field_it_does_not_declare():
    with pytest.raises(ValueError, match="extra"):
        JobCompletedNext(**completed_fields("wo-1"), van_colour="white")  # type: ignore[call-arg]


async def test_an_old_instance_loads_a_stream_a_new_instance_appended_to(db_url):
    engine = async_engine(db_url)
    async with engine.begin() as conn:
        written = [JobCompletedNext(**completed_fields("wo-s1"), van_registration="AB12 CDE")]
        await EventStore(events, reader=next_release).append(conn, "wo-s1", 0, written)
    async with engine.connect() as conn:
        loaded = await EventStore(events, reader=registry).load(conn, "wo-s1")
        # The row keeps what the newer instance wrote: nothing is lost for the new release.
        stored = await conn.scalar(select(events.c.data))
    assert [type(r.data) for r in loaded] == [JobCompletedV1]
    assert loaded[0].data == JobCompleted.read(written[0].model_dump())
    assert stored["van_registration"] == "AB12 CDE"
    await engine.dispose()
