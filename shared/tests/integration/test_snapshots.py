"""Snapshot plus tail against real PostgreSQL: saved with the append, never backwards."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, create_engine, select

from jobstream.contracts.field import JobCompleted
from jobstream.db import async_engine
from jobstream.eventstore.snapshots import Snapshots, define_snapshots_table
from jobstream.eventstore.store import EventStore
from jobstream.eventstore.tables import define_events_table
from jobstream.settings import normalise_database_url

pytestmark = pytest.mark.integration

metadata = MetaData()
events = define_events_table(metadata)
snapshots = define_snapshots_table(metadata)


@dataclass(frozen=True)
class Minutes:
    """A test codec: the labour minutes of each completion, in order."""

    schema_version: int = 1

    def dump(self, state: list[int]) -> dict[str, list[int]]:
        return {"minutes": state}

    def load(self, data: dict[str, list[int]]) -> list[int]:
        return list(data["minutes"])


def completed(work_order_id: str, minutes: int) -> JobCompleted:
    now = datetime.now(UTC)
    return JobCompleted(
        work_order_id=work_order_id,
        technician_id="tech-1",
        customer_id="cust-1",
        job_type="leak_repair",
        priority="P3",
        completed_at=now,
        device_time=now,
        received_at=now,
        labour_minutes=minutes,
        work_done="Fixed",
        first_time_fix=True,
    )


def minutes_of(state, recorded):
    return [*state, recorded.data.labour_minutes]


@pytest.fixture
async def db(database_factory):
    url = database_factory(None)
    sync = create_engine(normalise_database_url(url))
    metadata.create_all(sync)
    sync.dispose()
    engine = async_engine(url)
    yield engine
    await engine.dispose()


async def append(engine, kept, stream, version, minutes, *, save=True):
    """Load, append ``minutes`` and save the state after them, as a handler does."""
    async with engine.begin() as conn:
        store = EventStore(events)
        before = await kept.load(conn, store, stream, initial=[], evolve=minutes_of)
        assert before.version == version
        recorded = await store.append(
            conn, stream, version, [completed(stream, m) for m in minutes]
        )
        if save:
            await kept.save(
                conn,
                recorded[-1],
                [*before.state, *minutes],
                snapshot_version=before.snapshot_version,
            )


async def load(engine, kept, stream):
    async with engine.connect() as conn:
        return await kept.load(conn, EventStore(events), stream, initial=[], evolve=minutes_of)


async def test_a_snapshot_plus_the_later_events_is_the_stream(db):
    kept = Snapshots(snapshots, Minutes())
    await append(db, kept, "wo-1", 0, [10, 20])
    await append(db, kept, "wo-1", 2, [30], save=False)
    folded = await load(db, kept, "wo-1")
    assert (folded.state, folded.version, folded.snapshot_version) == ([10, 20, 30], 3, 2)
    assert folded.source == "snapshot"
    async with db.connect() as conn:
        row = (await conn.execute(select(snapshots))).one()
    assert (row.stream_id, row.stream_version, row.schema_version) == ("wo-1", 2, 1)
    assert row.state == {"minutes": [10, 20]}


async def test_the_fold_starts_from_the_snapshot_not_the_events(db):
    kept = Snapshots(snapshots, Minutes())
    await append(db, kept, "wo-2", 0, [10, 20])
    # A snapshot is believed as it stands: what it says replaces the events it covers.
    async with db.begin() as conn:
        await conn.execute(snapshots.update().values(state={"minutes": [1, 2]}))
    folded = await load(db, kept, "wo-2")
    assert (folded.state, folded.snapshot_version) == ([1, 2], 2)


async def test_no_snapshot_or_another_schema_version_is_a_full_fold(db):
    kept = Snapshots(snapshots, Minutes())
    await append(db, kept, "wo-3", 0, [5], save=False)
    assert (await load(db, kept, "wo-3")).snapshot_version == 0
    await append(db, kept, "wo-3", 1, [6])
    newer = Snapshots(snapshots, Minutes(schema_version=2))
    folded = await load(db, newer, "wo-3")
    assert (folded.state, folded.version, folded.snapshot_version) == ([5, 6], 2, 0)
    # The newer codec's next save replaces the row.
    await append(db, newer, "wo-3", 2, [7])
    assert (await load(db, newer, "wo-3")).snapshot_version == 3
    assert (await load(db, kept, "wo-3")).snapshot_version == 0


async def test_a_snapshot_never_moves_backwards(db):
    kept = Snapshots(snapshots, Minutes())
    await append(db, kept, "wo-4", 0, [1, 2, 3])
    async with db.begin() as conn:
        first, _second, third = await EventStore(events).load(conn, "wo-4")
        await kept.save(conn, first, [1])
        await kept.save(conn, third, [9, 9, 9])
    folded = await load(db, kept, "wo-4")
    assert (folded.state, folded.snapshot_version) == ([1, 2, 3], 3)


async def test_a_snapshot_rolls_back_with_its_events(db):
    kept = Snapshots(snapshots, Minutes())
    await append(db, kept, "wo-5", 0, [1])
    with pytest.raises(RuntimeError):
        async with db.begin() as conn:
            store = EventStore(events)
            recorded = await store.append(conn, "wo-5", 1, [completed("wo-5", 2)])
            await kept.save(conn, recorded[-1], [1, 2])
            raise RuntimeError("the command failed after the append")
    folded = await load(db, kept, "wo-5")
    assert (folded.state, folded.version, folded.snapshot_version) == ([1], 1, 1)


async def test_a_resident_state_is_believed_only_while_its_event_stands(db):
    """Saved in a transaction that rolled back, then another writer took the version."""
    kept = Snapshots(snapshots, Minutes(), every=10, resident=8)
    await append(db, kept, "wo-6", 0, [1, 2])
    assert (await load(db, kept, "wo-6")).source == "resident"
    with pytest.raises(RuntimeError):
        async with db.begin() as conn:
            store = EventStore(events)
            recorded = await store.append(conn, "wo-6", 2, [completed("wo-6", 3)])
            await kept.save(conn, recorded[-1], [1, 2, 3])
            raise RuntimeError("the command failed after the append")
    other = Snapshots(snapshots, Minutes(), every=10)
    await append(db, other, "wo-6", 2, [30])
    folded = await load(db, kept, "wo-6")
    assert (folded.state, folded.version, folded.source) == ([1, 2, 30], 3, "events")
    # Every 10 events: no row yet, and then one at version 10.
    assert (await load(db, other, "wo-6")).snapshot_version == 0
    await append(db, kept, "wo-6", 3, [4, 5, 6, 7, 8, 9, 10])
    folded = await load(db, other, "wo-6")
    assert (folded.version, folded.snapshot_version, folded.source) == (10, 10, "snapshot")
