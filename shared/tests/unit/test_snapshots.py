"""Snapshot plus tail without a database: what is folded onto what; events in a snapshot."""

from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import MetaData, Table

from jobstream.contracts.base import Event, EventRegistry
from jobstream.eventstore.snapshots import Snapshot, Snapshots, dump_events, load_events
from jobstream.eventstore.store import RecordedEvent

reader = EventRegistry()


@reader.register
class CountedV1(Event):
    event_type: ClassVar[str] = "Counted"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str] = "test"
    work_order_id: str
    n: int


@reader.register
class CountedV2(Event):
    event_type: ClassVar[str] = "Counted"
    schema_version: ClassVar[int] = 2
    topic: ClassVar[str] = "test"
    work_order_id: str
    amount: int
    unit: str


@reader.upcaster("Counted", 1)
def _v1_to_v2(data):
    return {"work_order_id": data["work_order_id"], "amount": data["n"], "unit": "each"}


@reader.register
class NamedV1(Event):
    event_type: ClassVar[str] = "Named"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str] = "test"
    work_order_id: str
    name: str


def test_events_come_back_in_order_as_runs_of_one_class():
    events = [
        CountedV2(work_order_id="w", amount=1, unit="m"),
        CountedV2(work_order_id="w", amount=2, unit="m"),
        NamedV1(work_order_id="w", name="a"),
        CountedV2(work_order_id="w", amount=3, unit="m"),
    ]
    runs = dump_events(events)
    assert [(r["type"], r["version"], len(r["data"])) for r in runs] == [
        ("Counted", 2, 2),
        ("Named", 1, 1),
        ("Counted", 2, 1),
    ]
    assert load_events(runs, reader) == events
    assert dump_events([]) == []


def test_events_kept_at_an_older_version_are_upcast_like_the_log():
    runs = dump_events([CountedV1(work_order_id="w", n=4), CountedV1(work_order_id="w", n=5)])
    assert load_events(runs, reader) == [
        CountedV2(work_order_id="w", amount=4, unit="each"),
        CountedV2(work_order_id="w", amount=5, unit="each"),
    ]


def test_events_a_newer_release_kept_with_fields_this_one_does_not_know_still_load():
    """During a rolling upgrade an older process reads rows a newer one wrote (ADR 0082)."""
    runs = dump_events([CountedV2(work_order_id="w", amount=1, unit="m")])
    runs[0]["data"][0]["colour"] = "red"
    assert load_events(runs, reader) == [CountedV2(work_order_id="w", amount=1, unit="m")]


def recorded(version: int, n: int, stream_id: str = "s") -> RecordedEvent:
    return RecordedEvent(
        position=version,
        event_id=f"{stream_id}-{version}-{n}",
        stream_id=stream_id,
        stream_version=version,
        data=CountedV2(work_order_id="w", amount=n, unit="each"),
        occurred_at=datetime(2026, 12, 5, tzinfo=UTC),
        correlation_id=None,
        causation_id=None,
    )


class Stream:
    """Stands in for the event store: the stream's events after a version."""

    def __init__(self, *amounts: int, stream_id: str = "s") -> None:
        self.stream_id = stream_id
        self.events = [recorded(v, n, stream_id) for v, n in enumerate(amounts, start=1)]
        self.asked_after: list[int] = []

    def add(self, amount: int) -> RecordedEvent:
        event = recorded(len(self.events) + 1, amount, self.stream_id)
        self.events.append(event)
        return event

    async def load(self, _conn, _stream_id, *, after=0):
        self.asked_after.append(after)
        return [e for e in self.events if e.stream_version > after]


class Kept(Snapshots[list[int]]):
    """Snapshots with the row given, and the rows written noted, no table."""

    def __init__(self, snapshot: Snapshot[list[int]] | None = None, **options) -> None:
        super().__init__(Table("snapshots", MetaData()), None, **options)  # type: ignore[arg-type]
        self.snapshot = snapshot
        self.written: list[tuple[str, int, list[int]]] = []

    async def read(self, _conn, _stream_id):
        return self.snapshot

    async def _upsert(self, _conn, stream_id, version, state):
        self.written.append((stream_id, version, state))
        self.snapshot = Snapshot(state, version)


def append(state: list[int], event: RecordedEvent) -> list[int]:
    return [*state, event.data.amount]


async def load(kept, stream, **options):
    return await kept.load(None, stream, stream.stream_id, initial=[], evolve=append, **options)


def where(folded):
    return folded.state, folded.version, folded.snapshot_version, folded.source


async def test_the_events_after_the_snapshot_are_folded_onto_it():
    stream = Stream(1, 2, 3, 4)
    folded = await load(Kept(Snapshot([10, 20], 2)), stream)
    assert where(folded) == ([10, 20, 3, 4], 4, 2, "snapshot")
    # From the snapshot's own version: its event must still be there.
    assert stream.asked_after == [1]


async def test_a_snapshot_at_the_head_folds_nothing():
    folded = await load(Kept(Snapshot([1, 2], 2)), Stream(1, 2))
    assert where(folded) == ([1, 2], 2, 2, "snapshot")


async def test_no_snapshot_is_a_full_fold():
    stream = Stream(1, 2, 3)
    assert where(await load(Kept(None), stream)) == ([1, 2, 3], 3, 0, "events")
    assert stream.asked_after == [0]


async def test_a_snapshot_that_cannot_be_resumed_is_a_full_fold():
    folded = await load(Kept(Snapshot([9, 9], 2)), Stream(1, 2, 3), resume=lambda _s: None)
    assert where(folded) == ([1, 2, 3], 3, 0, "events")


async def test_a_snapshot_ahead_of_its_stream_is_not_believed():
    folded = await load(Kept(Snapshot([9, 9, 9], 3)), Stream(1, 2))
    assert where(folded) == ([1, 2], 2, 0, "events")


async def test_resume_gives_the_state_to_fold_onto():
    folded = await load(Kept(Snapshot([1, 2], 2)), Stream(1, 2, 3), resume=lambda s: [*s.state, 0])
    assert folded.state == [1, 2, 0, 3]


async def test_a_resident_state_needs_only_the_events_since():
    kept, stream = Kept(None, resident=4), Stream(1, 2)
    await load(kept, stream)
    stream.add(3)  # appended by another process: the resident state is a prefix still
    stream.asked_after.clear()
    folded = await load(kept, stream)
    assert where(folded) == ([1, 2, 3], 3, 0, "resident")
    assert stream.asked_after == [1]
    assert where(await load(kept, stream)) == ([1, 2, 3], 3, 0, "resident")


async def test_a_saved_state_whose_transaction_rolled_back_is_not_believed():
    kept, stream = Kept(None, resident=4), Stream(1, 2)
    await load(kept, stream)
    head = stream.add(3)
    await kept.save(None, head, [1, 2, 3])
    # Rolled back, the row with the events; another writer's event took version 3.
    stream.events.pop()
    kept.snapshot = None
    stream.add(30)
    assert where(await load(kept, stream)) == ([1, 2, 30], 3, 0, "events")


async def test_the_row_is_rewritten_every_so_many_events():
    kept, stream = Kept(None, every=3, resident=4), Stream()
    known = 0
    for amount in range(1, 8):
        head = stream.add(amount)
        state = (await load(kept, stream)).state
        known = await kept.save(None, head, state, snapshot_version=known)
    assert [(v, state) for _s, v, state in kept.written] == [
        (3, [1, 2, 3]),
        (6, [1, 2, 3, 4, 5, 6]),
    ]
    assert known == 6
    folded = await load(Kept(kept.snapshot), stream)  # another process: from the row
    assert where(folded) == ([1, 2, 3, 4, 5, 6, 7], 7, 6, "snapshot")


async def test_every_save_writes_the_row_by_default():
    kept, stream = Kept(None), Stream()
    for amount in (1, 2):
        await kept.save(None, stream.add(amount), [amount])
    assert [v for _s, v, _state in kept.written] == [1, 2]


async def test_only_the_most_recently_used_streams_stay_resident():
    kept = Kept(None, resident=2)
    streams = [Stream(1, stream_id=name) for name in ("a", "b", "c")]
    for stream in streams:
        await load(kept, stream)
    await load(kept, streams[1])  # b is used again: a is the oldest
    assert [where(await load(kept, s))[3] for s in streams] == ["events", "resident", "events"]
