"""Dead letters re-driven after a fix: applied once, through the same bookkeeping."""

import dataclasses

import pytest
from sqlalchemy import Column, MetaData, Table, Text, create_engine, select

from jobstream.db import async_engine
from jobstream.messaging.consumer import ConsumerRunner, ConsumerSpec, ConsumerTables
from jobstream.messaging.redrive import list_dead_letters, redrive
from jobstream.messaging.tables import define_consumer_tables
from jobstream.settings import normalise_database_url
from jobstream.testing.builders import JobStory, envelopes
from jobstream.testing.contract_suite import RunningConsumer, publish, publish_raw

pytestmark = pytest.mark.integration

metadata = MetaData()
tables = ConsumerTables(*define_consumer_tables(metadata))
# What the handler did, kept in the transaction like any real handler's effects.
seen_table = Table("seen", metadata, Column("event_id", Text, primary_key=True))


@pytest.fixture
def db_url(database_factory):
    url = database_factory(None)
    sync = create_engine(normalise_database_url(url))
    metadata.create_all(sync)
    sync.dispose()
    return url


class Recorder:
    """A handler that refuses one work order until it is 'fixed'.

    It records what it applied in the database, in the transaction, as every handler must.
    """

    def __init__(self, refuse: str) -> None:
        self.refuse = refuse

    async def __call__(self, conn, envelope) -> None:
        if envelope.subject == self.refuse:
            raise ValueError(f"cannot handle {envelope.subject} yet")
        await conn.execute(seen_table.insert().values(event_id=envelope.id))


async def seen(engine) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.execute(select(seen_table.c.event_id))).scalars())


async def test_a_dead_letter_is_applied_once_after_the_fix(infra, db_url, topic_factory):
    topic = await topic_factory("redrive", partitions=1)
    good, bad = JobStory(), JobStory()
    story = envelopes([good.completed(), bad.completed()])
    handler = Recorder(refuse=bad.work_order_id)
    spec = ConsumerSpec("redrive.test", (topic,), {"JobCompleted": handler})
    engine = async_engine(db_url)
    running = RunningConsumer(
        ConsumerRunner(spec, engine, tables, bootstrap_servers=infra.bootstrap_servers)
    )
    await publish(infra.bootstrap_servers, topic, story)
    await running.wait_applied(2)
    await running.stop()
    assert await seen(engine) == {story[0].id}
    [dead] = await list_dead_letters(engine, tables, spec.group_id)
    assert dead.event_id == story[1].id and "cannot handle" in dead.error

    handler.refuse = "nobody"  # the fix is deployed
    report = await redrive(engine, spec, tables)
    assert (report.applied, report.still_failing) == (1, 0)
    assert await seen(engine) == {story[0].id, story[1].id}
    again = await redrive(engine, spec, tables)
    assert again.attempted == 0, "a re-driven letter is not re-driven again"
    assert await list_dead_letters(engine, tables, spec.group_id) == []
    async with engine.connect() as conn:
        processed = await conn.scalar(
            select(tables.processed.c.event_id).where(tables.processed.c.event_id == story[1].id)
        )
    assert processed == story[1].id
    await engine.dispose()


async def test_a_letter_that_still_fails_stays_with_its_new_error(infra, db_url, topic_factory):
    topic = await topic_factory("redrive", partitions=1)
    spec = ConsumerSpec("redrive.test", (topic,), {"JobCompleted": Recorder(refuse="none")})
    engine = async_engine(db_url)
    running = RunningConsumer(
        ConsumerRunner(spec, engine, tables, bootstrap_servers=infra.bootstrap_servers)
    )
    await publish_raw(
        infra.bootstrap_servers,
        topic,
        b"wo-1",
        b"{not json",
        [("ce_type", b"JobCompleted"), ("ce_specversion", b"1.0")],
    )
    await running.wait_applied(1)
    await running.stop()
    report = await redrive(engine, spec, tables)
    assert (report.applied, report.still_failing) == (0, 1)
    [dead] = await list_dead_letters(engine, tables, spec.group_id)
    assert "malformed" in dead.error and dead.redrive_attempts == 1
    await engine.dispose()


async def test_a_letter_already_applied_meanwhile_is_closed_as_a_duplicate(
    infra, db_url, topic_factory
):
    """The same event arrived again (the relay re-sent it) and was applied.

    Re-driving the old letter must not apply it a second time.
    """
    topic = await topic_factory("redrive", partitions=1)
    story = JobStory()
    [event] = envelopes([story.completed()])
    handler = Recorder(refuse=story.work_order_id)
    spec = ConsumerSpec("redrive.test", (topic,), {"JobCompleted": handler})
    engine = async_engine(db_url)
    running = RunningConsumer(
        ConsumerRunner(spec, engine, tables, bootstrap_servers=infra.bootstrap_servers)
    )
    await publish(infra.bootstrap_servers, topic, [event])
    await running.wait_applied(1)
    handler.refuse = "nobody"
    await publish(infra.bootstrap_servers, topic, [event])
    await running.wait_applied(2)
    await running.stop()
    assert await seen(engine) == {event.id}
    report = await redrive(engine, dataclasses.replace(spec), tables)
    assert (report.applied, report.duplicates) == (0, 1)
    assert await seen(engine) == {event.id}
    await engine.dispose()
