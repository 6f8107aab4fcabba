"""Event store and outbox relay against real PostgreSQL and Kafka."""

import asyncio
import random
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, create_engine, func, select

from jobstream.contracts.field import JobCompleted
from jobstream.db import async_engine, libpq_dsn
from jobstream.eventstore.relay import OutboxRelay, RelayPacing, make_producer
from jobstream.eventstore.store import ConcurrencyError, EventStore, StreamAppend
from jobstream.eventstore.tables import define_events_table
from jobstream.messaging.envelope import from_kafka
from jobstream.settings import normalise_database_url

pytestmark = pytest.mark.integration

metadata = MetaData()
events = define_events_table(metadata)


def completed(work_order_id: str, minutes: int = 30) -> JobCompleted:
    return JobCompleted(
        work_order_id=work_order_id,
        technician_id="tech-1",
        customer_id="cust-1",
        job_type="leak_repair",
        priority="P3",
        completed_at=datetime.now(UTC),
        device_time=datetime.now(UTC),
        received_at=datetime.now(UTC),
        labour_minutes=minutes,
        work_done="Fixed",
        first_time_fix=True,
    )


@pytest.fixture
def store_db(database_factory):
    url = database_factory(None)
    sync = create_engine(normalise_database_url(url))
    metadata.create_all(sync)
    sync.dispose()
    return url


class TopicEvents(EventStore):
    """Store whose rows all go to one test topic."""

    def __init__(self, topic: str) -> None:
        super().__init__(events)
        self.test_topic = topic

    async def append(self, conn, stream_id, expected_version, new_events, **kw):
        recorded = await super().append(conn, stream_id, expected_version, new_events, **kw)
        await conn.execute(
            events.update()
            .where(events.c.event_id.in_([r.event_id for r in recorded]))
            .values(topic=self.test_topic)
        )
        return recorded


async def test_append_and_load_fold_a_stream(store_db):
    engine = async_engine(store_db)
    store = EventStore(events)
    async with engine.begin() as conn:
        await store.append(conn, "wo-1", 0, [completed("wo-1", 10), completed("wo-1", 20)])
    async with engine.connect() as conn:
        total, version = await store.fold(conn, "wo-1", 0, lambda s, e: s + e.labour_minutes)
    assert (total, version) == (30, 2)
    await engine.dispose()


async def test_appending_with_a_stale_expected_version_is_a_conflict(store_db):
    engine = async_engine(store_db)
    store = EventStore(events)
    async with engine.begin() as conn:
        await store.append(conn, "wo-1", 0, [completed("wo-1")])
    with pytest.raises(ConcurrencyError, match="at version 1, expected 0"):
        async with engine.begin() as conn:
            await store.append(conn, "wo-1", 0, [completed("wo-1")])
    async with engine.connect() as conn:
        assert await store.current_version(conn, "wo-1") == 1
    await engine.dispose()


async def test_concurrent_writers_to_one_stream_never_both_win(store_db):
    engine = async_engine(store_db)
    store = EventStore(events)

    async def write() -> bool:
        try:
            async with engine.begin() as conn:
                await store.append(conn, "wo-race", 0, [completed("wo-race")])
            return True
        except ConcurrencyError:
            return False

    results = await asyncio.gather(*(write() for _ in range(8)))
    assert results.count(True) == 1
    await engine.dispose()


async def test_appends_about_other_subjects_do_not_wait_for_an_open_one(store_db):
    """An open append holds back only writers of its own subject (ADR 0079)."""
    engine = async_engine(store_db, pool_size=5)
    store = EventStore(events)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold_wo_a() -> None:
        async with engine.begin() as conn:
            await store.append(conn, "wo-a", 0, [completed("wo-a")])
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold_wo_a())
    await holding.wait()
    async with engine.begin() as conn:
        # Another subject: commits while wo-a's transaction is still open.
        await asyncio.wait_for(store.append(conn, "wo-b", 0, [completed("wo-b")]), timeout=5)

    async def append_to_wo_a_again() -> None:
        async with engine.begin() as conn:
            await store.append(conn, "wo-a", 1, [completed("wo-a")])

    same_subject = asyncio.create_task(append_to_wo_a_again())
    await asyncio.sleep(0.5)
    assert not same_subject.done(), "a second writer of wo-a went ahead of the open one"
    release.set()
    await holder
    await asyncio.wait_for(same_subject, timeout=5)
    async with engine.connect() as conn:
        assert await store.current_version(conn, "wo-a") == 2
    await engine.dispose()


async def test_several_streams_are_appended_in_one_call(store_db):
    engine = async_engine(store_db)
    store = EventStore(events)
    async with engine.begin() as conn:
        await store.append(conn, "wo-2", 0, [completed("wo-2")])
        first, second, empty = await store.append_streams(
            conn,
            [
                StreamAppend("wo-1", 0, [completed("wo-1", 10), completed("wo-1", 20)]),
                StreamAppend("wo-2", 1, [completed("wo-2", 5)], causation_id="cause-1"),
                StreamAppend("wo-3", 0, []),
            ],
        )
    assert [r.stream_version for r in first] == [1, 2]
    assert [(r.stream_version, r.causation_id) for r in second] == [(2, "cause-1")]
    assert empty == []
    assert first[0].position < first[1].position < second[0].position
    async with engine.connect() as conn:
        assert await store.fold(conn, "wo-1", 0, lambda s, e: s + e.labour_minutes) == (30, 2)
        assert await store.current_version(conn, "wo-2") == 2
    await engine.dispose()


async def test_one_moved_stream_leaves_every_stream_of_the_call_unwritten(store_db):
    engine = async_engine(store_db)
    store = EventStore(events)
    async with engine.begin() as conn:
        await store.append(conn, "wo-2", 0, [completed("wo-2")])
    with pytest.raises(ConcurrencyError, match="wo-2 is at version 1, expected 0"):
        async with engine.begin() as conn:
            await store.append_streams(
                conn,
                [
                    StreamAppend("wo-1", 0, [completed("wo-1")]),
                    StreamAppend("wo-2", 0, [completed("wo-2")]),
                ],
            )
    async with engine.connect() as conn:
        assert await store.current_version(conn, "wo-1") == 0
        assert await store.current_version(conn, "wo-2") == 1
    await engine.dispose()


async def test_a_call_takes_its_subjects_locks_in_sorted_order(store_db):
    """Waiting for its first subject, a call holds none of the later ones.

    So two calls over the same subjects, given in any order, cannot deadlock: both take
    the smallest first.
    """
    engine = async_engine(store_db, pool_size=5)
    store = EventStore(events)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold_wo_a() -> None:
        async with engine.begin() as conn:
            await store.append(conn, "wo-a", 0, [completed("wo-a")])
            holding.set()
            await release.wait()

    async def write_c_b_a() -> None:
        async with engine.begin() as conn:
            await store.append_streams(
                conn,
                [
                    StreamAppend(wo, 1 if wo == "wo-a" else 0, [completed(wo)])
                    for wo in ("wo-c", "wo-b", "wo-a")
                ],
            )

    holder = asyncio.create_task(hold_wo_a())
    await holding.wait()
    waiting = asyncio.create_task(write_c_b_a())
    await asyncio.sleep(0.5)
    assert not waiting.done(), "the call went ahead of the open writer of wo-a"
    async with engine.begin() as conn:
        # wo-b sorts after wo-a: the waiting call must not be holding it.
        await asyncio.wait_for(store.append(conn, "wo-b", 0, [completed("wo-b")]), timeout=5)
    release.set()
    await holder
    with pytest.raises(ConcurrencyError, match="wo-b is at version 1, expected 0"):
        await asyncio.wait_for(waiting, timeout=5)
    await engine.dispose()


async def test_a_stream_twice_in_one_call_is_refused(store_db):
    engine = async_engine(store_db)
    store = EventStore(events)
    async with engine.begin() as conn:
        with pytest.raises(ValueError, match="once per call"):
            await store.append_streams(
                conn,
                [
                    StreamAppend("wo-1", 0, [completed("wo-1")]),
                    StreamAppend("wo-1", 1, [completed("wo-1")]),
                ],
            )
    await engine.dispose()


async def test_relay_never_skips_an_event_of_concurrent_writers(
    store_db, infra, topic_factory, topic_reader
):
    """Many writers commit in random order while the relay tails: every event arrives.

    Each subject's (Kafka key's) events arrive in position order, and in version order.
    """
    topic = await topic_factory("relay", partitions=3)
    engine = async_engine(store_db, pool_size=20)
    store = TopicEvents(topic)
    relay = OutboxRelay(
        engine,
        events,
        source="jobstream/test",
        bootstrap_servers=infra.bootstrap_servers,
        listen_dsn=libpq_dsn(store_db),
        pacing=RelayPacing(batch_size=7, poll_interval_s=0.2),
    )
    relay_task = asyncio.create_task(relay.run())
    streams = [f"wo-{uuid.uuid4().hex[:8]}" for _ in range(12)]
    per_stream = 10

    async def writer(stream: str) -> None:
        for version in range(per_stream):
            async with engine.begin() as conn:
                await store.append(conn, stream, version, [completed(stream, version)])
                # Hold the transaction open a random while so commits interleave.
                await asyncio.sleep(random.uniform(0, 0.01))

    await asyncio.gather(*(writer(s) for s in streams))
    total = len(streams) * per_stream
    records = await topic_reader(topic, lambda recs: len(recs) >= total, timeout=60)
    relay.stop()
    await relay_task

    async with engine.connect() as conn:
        rows = (await conn.execute(select(events.c.event_id, events.c.position))).all()
        unpublished = await conn.scalar(
            select(func.count()).select_from(events).where(events.c.published_at.is_(None))
        )
    position = {str(r.event_id): r.position for r in rows}
    decoded = [from_kafka(r.key, r.value, list(r.headers)) for r in records]
    assert {d.id for d in decoded} == set(position), "every appended event was published"
    assert unpublished == 0
    by_key: dict[tuple[int, bytes], list[int]] = {}
    for record, envelope in zip(records, decoded, strict=True):
        by_key.setdefault((record.partition, record.key), []).append(position[envelope.id])
    for positions in by_key.values():
        assert positions == sorted(positions), "a subject's events arrived out of order"
    per_stream_versions: dict[str, list[int]] = {}
    for envelope in decoded:
        per_stream_versions.setdefault(envelope.subject, []).append(envelope.sequence or 0)
    assert all(v == list(range(1, per_stream + 1)) for v in per_stream_versions.values())
    await engine.dispose()


async def test_relay_rides_out_a_broker_outage(store_db, infra, topic_factory, topic_reader):
    """With the broker unreachable nothing is marked published.

    Once it is back, every event goes out in order.
    """
    topic = await topic_factory("relay", partitions=1)
    engine = async_engine(store_db)
    store = TopicEvents(topic)
    broker = {"address": "127.0.0.1:1"}  # nothing listens there: the outage
    relay = OutboxRelay(
        engine,
        events,
        source="jobstream/test",
        bootstrap_servers=infra.bootstrap_servers,
        listen_dsn=libpq_dsn(store_db),
        pacing=RelayPacing(poll_interval_s=0.2, max_backoff_s=0.5),
        producer_factory=lambda: make_producer(broker["address"], "outage-test"),
    )
    relay_task = asyncio.create_task(relay.run())
    for version in range(5):
        async with engine.begin() as conn:
            await store.append(conn, "wo-outage", version, [completed("wo-outage", version)])
    await asyncio.sleep(1.5)  # let the relay fail against the dead broker a few times
    async with engine.connect() as conn:
        published = await conn.scalar(
            select(func.count()).select_from(events).where(events.c.published_at.is_not(None))
        )
    assert published == 0
    broker["address"] = infra.bootstrap_servers  # the broker comes back
    records = await topic_reader(topic, lambda recs: len(recs) >= 5, timeout=60)
    relay.stop()
    await relay_task
    minutes = [from_kafka(r.key, r.value, list(r.headers)).data.labour_minutes for r in records]
    assert minutes == [0, 1, 2, 3, 4]
    await engine.dispose()


async def test_relay_keys_each_event_by_its_subject_not_its_stream(
    store_db, infra, topic_factory, topic_reader
):
    """An aggregate whose stream id is not the job's id still publishes events consumers accept.

    Such an aggregate is an invoice or a technician; key and ce_subject are the event's
    subject.
    """
    topic = await topic_factory("relay", partitions=3)
    engine = async_engine(store_db)
    store = TopicEvents(topic)
    work_order_id = f"wo-{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await store.append(conn, f"invoice-{uuid.uuid4()}", 0, [completed(work_order_id)])
    relay = OutboxRelay(
        engine,
        events,
        source="jobstream/test",
        bootstrap_servers=infra.bootstrap_servers,
        listen_dsn=libpq_dsn(store_db),
        pacing=RelayPacing(poll_interval_s=0.2),
    )
    relay_task = asyncio.create_task(relay.run())
    records = await topic_reader(topic, lambda recs: len(recs) >= 1, timeout=60)
    relay.stop()
    await relay_task
    assert records[0].key == work_order_id.encode()
    envelope = from_kafka(records[0].key, records[0].value, list(records[0].headers))
    assert envelope.subject == work_order_id
    await engine.dispose()


async def test_each_event_can_carry_the_time_it_happened(store_db):
    """An offline device's actions happened at their own times, not when they were stored."""
    engine = async_engine(store_db)
    store = EventStore(events)
    t1, t2 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC), datetime(2026, 11, 23, 9, 40, tzinfo=UTC)
    async with engine.begin() as conn:
        recorded = await store.append(
            conn,
            "wo-times",
            0,
            [completed("wo-times"), completed("wo-times")],
            occurred_at=[t1, t2],
        )
    assert [r.occurred_at for r in recorded] == [t1, t2]
    async with engine.connect() as conn:
        assert [r.occurred_at for r in await store.load(conn, "wo-times")] == [t1, t2]
    with pytest.raises(ValueError, match="1 times given for 2 events"):
        async with engine.begin() as conn:
            await store.append(
                conn,
                "wo-other",
                0,
                [completed("wo-other"), completed("wo-other")],
                occurred_at=[t1],
            )
    await engine.dispose()
