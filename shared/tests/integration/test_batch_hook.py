"""ConsumerSpec.after_batch: called once per batch in the batch's transaction.

It is given the envelopes applied; a batch whose hook fails is applied record by record
instead. With across_partitions, a batch is everything one poll returned, from every
partition.
"""

import dataclasses

import pytest
from aiokafka import TopicPartition
from sqlalchemy import Column, MetaData, Table, Text, create_engine, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.db import async_engine
from jobstream.messaging.consumer import ConsumerRunner, ConsumerSpec, ConsumerTables
from jobstream.messaging.envelope import Envelope
from jobstream.messaging.redrive import list_dead_letters, redrive
from jobstream.messaging.tables import define_consumer_tables
from jobstream.settings import normalise_database_url
from jobstream.testing.builders import JobStory, envelopes
from jobstream.testing.contract_suite import RunningConsumer, publish

pytestmark = pytest.mark.integration

metadata = MetaData()
tables = ConsumerTables(*define_consumer_tables(metadata))
seen_by_hook = Table("seen_by_hook", metadata, Column("event_id", Text, primary_key=True))


@pytest.fixture
def db_url(database_factory):
    url = database_factory(None)
    sync = create_engine(normalise_database_url(url))
    metadata.create_all(sync)
    sync.dispose()
    return url


class Hook:
    """Records each call and writes a row per envelope in the batch's transaction."""

    def __init__(self, refuse: str | None = None) -> None:
        self.refuse = refuse
        self.calls: list[list[str]] = []
        self.handled: list[str] = []

    async def handler(self, conn: AsyncConnection, envelope: Envelope) -> None:
        self.handled.append(envelope.id)

    async def after_batch(self, conn: AsyncConnection, batch) -> None:
        if any(e.subject == self.refuse for e in batch):
            raise ValueError("cannot fold this job yet")
        self.calls.append([e.id for e in batch])
        await conn.execute(seen_by_hook.insert(), [{"event_id": e.id} for e in batch])

    def spec(self, topic: str) -> ConsumerSpec:
        story_types = ("RequestLogged", "WorkOrderReleased", "JobScheduled", "JobCompleted")
        return ConsumerSpec(
            "hook.test",
            (topic,),
            {t: self.handler for t in story_types},
            after_batch=self.after_batch,
        )


async def read_all(topic_reader, topic, count):
    return await topic_reader(topic, lambda recs: len(recs) >= count)


async def hook_rows(engine) -> list[str]:
    async with engine.connect() as conn:
        return sorted((await conn.execute(select(seen_by_hook.c.event_id))).scalars())


async def test_the_hook_runs_once_per_batch_with_the_applied_events(
    infra, db_url, topic_factory, topic_reader
):
    topic = await topic_factory("hook", partitions=1)
    story = JobStory()
    events = envelopes([story.request_logged(), story.released(), story.completed()])
    # The second event arrives twice in the same batch (a relay re-send).
    await publish(infra.bootstrap_servers, topic, [events[0], events[1], events[1], events[2]])
    records = await read_all(topic_reader, topic, 4)
    hook = Hook()
    engine = async_engine(db_url)
    runner = ConsumerRunner(hook.spec(topic), engine, tables, bootstrap_servers="unused:9092")

    assert await runner.apply_batch(TopicPartition(topic, 0), records) == 4
    assert hook.calls == [[e.id for e in events]]
    assert hook.handled == [e.id for e in events]
    assert (runner.stats.applied, runner.stats.duplicates) == (3, 1)
    assert await hook_rows(engine) == sorted(e.id for e in events)

    # Delivered again (below the stored offset): neither handler nor hook runs.
    assert await runner.apply_batch(TopicPartition(topic, 0), records) == 4
    assert len(hook.calls) == 1
    await engine.dispose()


async def test_a_failing_hook_rolls_back_with_the_batch(infra, db_url, topic_factory, topic_reader):
    topic = await topic_factory("hook", partitions=1)
    story = JobStory()
    events = envelopes([story.request_logged(), story.completed()])
    await publish(infra.bootstrap_servers, topic, events)
    records = await read_all(topic_reader, topic, 2)
    engine = async_engine(db_url)

    class OutageError(OSError):
        """A transient failure: the batch is retried, nothing is kept meanwhile."""

    async def down(conn, batch):
        await conn.execute(seen_by_hook.insert(), [{"event_id": e.id} for e in batch])
        raise OutageError("database went away")

    hook = Hook()
    spec = ConsumerSpec("hook.test", (topic,), hook.spec(topic).handlers, after_batch=down)
    runner = ConsumerRunner(spec, engine, tables, bootstrap_servers="unused:9092")
    with pytest.raises(OutageError):
        await runner.apply_batch(TopicPartition(topic, 0), records)
    assert await hook_rows(engine) == []
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.processed)) == 0
        assert await conn.scalar(select(func.count()).select_from(tables.offsets)) == 0
    await engine.dispose()


async def test_a_record_the_hook_cannot_take_is_dead_lettered_and_the_rest_applied(
    infra, db_url, topic_factory
):
    topic = await topic_factory("hook", partitions=1)
    good, bad = JobStory(), JobStory()
    story = envelopes(
        [good.request_logged(), bad.request_logged(), good.completed(), bad.completed()]
    )
    hook = Hook(refuse=bad.work_order_id)
    spec = hook.spec(topic)
    engine = async_engine(db_url)
    await publish(infra.bootstrap_servers, topic, story)
    running = RunningConsumer(
        ConsumerRunner(spec, engine, tables, bootstrap_servers=infra.bootstrap_servers)
    )
    await running.wait_applied(len(story))
    await running.stop()

    goods = sorted(e.id for e in story if e.subject == good.work_order_id)
    assert await hook_rows(engine) == goods
    assert (running.runner.stats.applied, running.runner.stats.dead_lettered) == (2, 2)
    dead = await list_dead_letters(engine, tables, spec.group_id)
    assert sorted(d.event_id for d in dead) == sorted(
        e.id for e in story if e.subject == bad.work_order_id
    )
    assert all("cannot fold this job yet" in d.error for d in dead)

    # Once the fix is deployed, a re-drive runs the hook for each letter.
    hook.refuse = None
    report = await redrive(engine, spec, tables)
    assert (report.applied, report.still_failing) == (2, 0)
    assert await hook_rows(engine) == sorted(e.id for e in story)
    await engine.dispose()


# -- across_partitions: every partition of a poll in one transaction ----------------------


def across(hook: Hook, *topics: str) -> ConsumerSpec:
    return dataclasses.replace(hook.spec(topics[0]), topics=topics, across_partitions=True)


async def stored_offsets(engine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(tables.offsets.c.topic, tables.offsets.c.next_offset))
        return {topic: offset for topic, offset in rows.all()}


async def test_across_partitions_a_poll_is_one_batch_storing_every_partitions_offset(
    infra, db_url, topic_factory, topic_reader
):
    intake = await topic_factory("hook", partitions=1)
    field = await topic_factory("hook", partitions=1)
    story = JobStory()
    first, second = (
        envelopes([story.request_logged(), story.released()]),
        envelopes([story.completed()]),
    )
    await publish(infra.bootstrap_servers, intake, first)
    # The second topic also carries a copy of the first event (a relay re-send elsewhere).
    await publish(infra.bootstrap_servers, field, [first[0], *second])
    polled = {
        TopicPartition(intake, 0): await read_all(topic_reader, intake, 2),
        TopicPartition(field, 0): await read_all(topic_reader, field, 2),
    }
    hook = Hook()
    engine = async_engine(db_url)
    runner = ConsumerRunner(across(hook, intake, field), engine, tables, bootstrap_servers="x:1")

    assert await runner.apply_batches(polled) == {tp: 2 for tp in polled}
    assert hook.calls == [[e.id for e in [*first, *second]]]
    assert (runner.stats.applied, runner.stats.duplicates) == (3, 1)
    assert await stored_offsets(engine) == {intake: 2, field: 2}

    # Delivered again (below both stored offsets): neither handler nor hook runs.
    assert await runner.apply_batches(polled) == {tp: 2 for tp in polled}
    assert len(hook.calls) == 1
    await engine.dispose()


async def test_across_partitions_a_failing_batch_keeps_no_partitions_offset(
    infra, db_url, topic_factory, topic_reader
):
    intake = await topic_factory("hook", partitions=1)
    field = await topic_factory("hook", partitions=1)
    story = JobStory()
    await publish(infra.bootstrap_servers, intake, envelopes([story.request_logged()]))
    await publish(infra.bootstrap_servers, field, envelopes([story.completed()]))
    polled = {
        TopicPartition(intake, 0): await read_all(topic_reader, intake, 1),
        TopicPartition(field, 0): await read_all(topic_reader, field, 1),
    }

    class OutageError(OSError):
        """A transient failure: the poll is retried, nothing is kept meanwhile."""

    async def down(conn, batch):
        await conn.execute(seen_by_hook.insert(), [{"event_id": e.id} for e in batch])
        raise OutageError("database went away")

    spec = dataclasses.replace(across(Hook(), intake, field), after_batch=down)
    engine = async_engine(db_url)
    runner = ConsumerRunner(spec, engine, tables, bootstrap_servers="x:1")
    with pytest.raises(OutageError):
        await runner.apply_batches(polled)
    assert await hook_rows(engine) == []
    assert await stored_offsets(engine) == {}
    await engine.dispose()


async def test_across_partitions_a_record_the_hook_cannot_take_is_dead_lettered(
    infra, db_url, topic_factory
):
    intake = await topic_factory("hook", partitions=1)
    field = await topic_factory("hook", partitions=1)
    good, bad = JobStory(), JobStory()
    logged = envelopes([good.request_logged(), bad.request_logged()])
    done = envelopes([good.completed(), bad.completed()])
    await publish(infra.bootstrap_servers, intake, logged)
    await publish(infra.bootstrap_servers, field, done)
    hook = Hook(refuse=bad.work_order_id)
    spec = across(hook, intake, field)
    engine = async_engine(db_url)
    running = RunningConsumer(
        ConsumerRunner(spec, engine, tables, bootstrap_servers=infra.bootstrap_servers)
    )
    await running.wait_applied(4)
    await running.stop()

    story = [*logged, *done]
    assert await hook_rows(engine) == sorted(e.id for e in story if e.subject == good.work_order_id)
    assert (running.runner.stats.applied, running.runner.stats.dead_lettered) == (2, 2)
    dead = await list_dead_letters(engine, tables, spec.group_id)
    assert sorted(d.event_id for d in dead) == sorted(
        e.id for e in story if e.subject == bad.work_order_id
    )
    assert await stored_offsets(engine) == {intake: 2, field: 2}
    await engine.dispose()
