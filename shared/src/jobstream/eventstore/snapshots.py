"""Snapshot plus tail: a stream's state without folding its whole history on every load.

A service keeps one row per stream in its ``snapshots`` table: the state folded up to
``stream_version``, encoded by a codec that names its ``schema_version``. Loading is the row
plus the events after its version folded on top; a missing row, or one a codec of another
schema version wrote, falls back to a full fold, and so does a row the caller's ``resume``
cannot start from (the state depends on something outside the stream that moved since).
Saving is an upsert in the caller's transaction, the one that appends the events, so a
snapshot never claims a version whose events rolled back, and it never moves backwards.
With ``every`` above 1 the row is rewritten only once the stream has moved that many events
past it, so a long stream's state is not re-encoded on every append (a load then folds at
most ``every - 1`` events onto the row).

A process may also keep the latest states it loaded or saved *resident* (``resident``, the
most recently used streams): the next load of such a stream reads only the events from the
resident state's version on, and uses the state only if the event at that version is still
the one it was folded from, so a state saved in a transaction that rolled back is never
believed. Resident states are shared, so they must never be mutated.

A snapshot is a cache of the log, never a source of truth: deleting any row, or the whole
table's contents, only costs the next load a full fold.

The stream is read through a :class:`StreamReader`: the service's ``EventStore``, or another
numbered log of one subject's events (billing's field facts of a job).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event, EventRegistry, registry
from jobstream.eventstore.store import RecordedEvent
from jobstream.observability.metrics import SNAPSHOT_LOADS

S = TypeVar("S")
Source = Literal["resident", "snapshot", "events"]


class StreamReader(Protocol):
    """Where a stream's events are read from: an ``EventStore``, or a log shaped like one."""

    async def load(
        self, conn: AsyncConnection, stream_id: str, *, after: int = 0
    ) -> list[RecordedEvent]:
        """The stream's events after version ``after``, oldest first, numbered from 1."""
        ...


def define_snapshots_table(metadata: MetaData) -> Table:
    """Add the snapshots table to a service's metadata (migration: migration_ops)."""
    return Table(
        "snapshots",
        metadata,
        Column("stream_id", Text, primary_key=True),
        # The stream's version the state was folded up to (its last event's version).
        Column("stream_version", Integer, nullable=False),
        # The codec's schema version: a row written under another one is not read.
        Column("schema_version", Integer, nullable=False),
        Column("state", JSONB, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class SnapshotCodec(Protocol[S]):
    """How one kind of state is kept in a snapshot row.

    ``schema_version`` changes whenever ``dump``'s output changes shape, so that rows written
    before are no longer read (a full fold replaces each on its stream's next save).
    """

    @property
    def schema_version(self) -> int:
        """The version of the shape ``dump`` writes."""
        ...

    def dump(self, state: S) -> Any:
        """The state as a JSON-able value."""
        ...

    def load(self, data: Any) -> S:
        """The state ``dump`` wrote."""
        ...


@dataclass(frozen=True)
class Snapshot(Generic[S]):
    """A stream's state folded up to ``version``, as a snapshot row or memory keeps it."""

    state: S
    version: int


@dataclass(frozen=True)
class Folded(Generic[S]):
    """A stream's state as loaded, the version it is at, and where the fold began.

    ``snapshot_version`` is the version of the stream's usable snapshot row as far as this
    load knows (0: none); pass it to :meth:`Snapshots.save`. ``source`` says what the fold
    started from: a resident state, the snapshot row, or the stream's first event.
    """

    state: S
    version: int
    snapshot_version: int
    source: Source


@dataclass(frozen=True)
class _Resident(Generic[S]):
    """A state kept in memory, the id of the event it was folded up to, the row's version."""

    snapshot: Snapshot[S]
    event_id: str
    snapshot_version: int


class Snapshots(Generic[S]):
    """Snapshots of one kind of state in a service's ``snapshots`` table."""

    def __init__(
        self,
        table: Table,
        codec: SnapshotCodec[S],
        *,
        kind: str = "",
        every: int = 1,
        resident: int = 0,
    ) -> None:
        """Rows of ``table`` read and written through ``codec``.

        ``kind`` names the state in metrics; ``every`` is how many events a stream moves
        past its row before the row is rewritten; ``resident`` how many streams' latest
        states this process keeps in memory (0: none).
        """
        if every < 1 or resident < 0:
            raise ValueError("every must be at least 1, resident at least 0")
        self.table = table
        self.codec = codec
        self.kind = kind or table.name
        self.every = every
        self.resident = resident
        self._resident: OrderedDict[str, _Resident[S]] = OrderedDict()

    async def read(self, conn: AsyncConnection, stream_id: str) -> Snapshot[S] | None:
        """The stream's snapshot row; None when there is none under this codec's version."""
        t = self.table
        row = (
            await conn.execute(
                select(t.c.stream_version, t.c.state).where(
                    t.c.stream_id == stream_id,
                    t.c.schema_version == self.codec.schema_version,
                )
            )
        ).first()
        if row is None:
            return None
        return Snapshot(self.codec.load(row.state), row.stream_version)

    async def load(
        self,
        conn: AsyncConnection,
        store: StreamReader,
        stream_id: str,
        *,
        initial: S,
        evolve: Callable[[S, RecordedEvent], S],
        resume: Callable[[Snapshot[S]], S | None] | None = None,
    ) -> Folded[S]:
        """The stream's state: a resident state or the row, with later events; or a full fold.

        ``resume`` turns a kept state into the state to fold the later events onto, or None
        when it cannot (the fold then starts from the next source, at worst ``initial``);
        without it a kept state is used as it is. ``evolve`` must be the fold the kept
        states came from.
        """
        folded: Folded[S] | None = None
        kept = self._resident.pop(stream_id, None)
        if kept is not None:
            folded = await self._onto(conn, store, stream_id, kept, evolve, resume)
        if folded is None:
            snapshot = await self.read(conn, stream_id)
            if snapshot is not None:
                row = _Resident(snapshot, "", snapshot.version)
                folded = await self._onto(conn, store, stream_id, row, evolve, resume)
        if folded is None:
            # No usable row (snapshot_version 0): the next save writes one.
            events = await store.load(conn, stream_id)
            folded = _fold(initial, events, 0, 0, "events", evolve)
            self._remember(stream_id, folded, events[-1].event_id if events else "")
        SNAPSHOT_LOADS.labels(self.kind, folded.source).inc()
        return folded

    async def _onto(
        self,
        conn: AsyncConnection,
        store: StreamReader,
        stream_id: str,
        kept: _Resident[S],
        evolve: Callable[[S, RecordedEvent], S],
        resume: Callable[[Snapshot[S]], S | None] | None,
    ) -> Folded[S] | None:
        """A kept state with the events after it; None if it cannot be resumed or is stale.

        A resident state is stale when the event at its version is not the one it was
        folded from (its transaction rolled back); a row, when its version has no event.
        """
        start = resume(kept.snapshot) if resume is not None else kept.snapshot.state
        if start is None:
            return None
        version = kept.snapshot.version
        # From the kept version itself, to check the event it was folded up to.
        events = await store.load(conn, stream_id, after=version - 1)
        if not events or events[0].stream_version != version:
            return None
        if kept.event_id and events[0].event_id != kept.event_id:
            return None
        source: Source = "resident" if kept.event_id else "snapshot"
        folded = _fold(start, events[1:], version, kept.snapshot_version, source, evolve)
        self._remember(stream_id, folded, events[-1].event_id)
        return folded

    async def save(
        self, conn: AsyncConnection, head: RecordedEvent, state: S, *, snapshot_version: int = 0
    ) -> int:
        """Keep ``state``, the stream folded up to the event ``head``; the row's version now.

        Call it in the transaction that appended ``head``: the row is written in it.
        ``snapshot_version`` is the row's version as the load found it
        (``Folded.snapshot_version``): the row is rewritten once ``head`` is ``every``
        events past it. A row already at a later version stays: a snapshot never moves
        backwards.
        """
        version = head.stream_version
        if version - snapshot_version >= self.every:
            await self._upsert(conn, head.stream_id, version, state)
            snapshot_version = version
        folded = Folded(state, version, snapshot_version, "resident")
        self._remember(head.stream_id, folded, head.event_id)
        return snapshot_version

    async def _upsert(self, conn: AsyncConnection, stream_id: str, version: int, state: S) -> None:
        t = self.table
        statement = pg_insert(t).values(
            stream_id=stream_id,
            stream_version=version,
            schema_version=self.codec.schema_version,
            state=self.codec.dump(state),
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[t.c.stream_id],
                set_={
                    "stream_version": statement.excluded.stream_version,
                    "schema_version": statement.excluded.schema_version,
                    "state": statement.excluded.state,
                    "updated_at": func.now(),
                },
                where=t.c.stream_version < statement.excluded.stream_version,
            )
        )

    def forget(self, stream_id: str | None = None) -> None:
        """Drop the resident state of one stream, or of every stream."""
        if stream_id is None:
            self._resident.clear()
        else:
            self._resident.pop(stream_id, None)

    def _remember(self, stream_id: str, folded: Folded[S], event_id: str) -> None:
        """Keep the state resident as the most recently used (the oldest one leaves)."""
        if not self.resident or not event_id:
            return
        snapshot = Snapshot(folded.state, folded.version)
        self._resident[stream_id] = _Resident(snapshot, event_id, folded.snapshot_version)
        self._resident.move_to_end(stream_id)
        while len(self._resident) > self.resident:
            self._resident.popitem(last=False)


def _fold(
    state: S,
    events: Sequence[RecordedEvent],
    version: int,
    snapshot_version: int,
    source: Source,
    evolve: Callable[[S, RecordedEvent], S],
) -> Folded[S]:
    for recorded in events:
        state = evolve(state, recorded)
        version = recorded.stream_version
    return Folded(state, version, snapshot_version, source)


@cache
def _many(cls: type[Event]) -> TypeAdapter[list[Event]]:
    """Validation and serialisation of a list of one contract class, in one call each."""
    return TypeAdapter(list[cls])  # type: ignore[valid-type]


def dump_events(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Events as JSON, in order: each run of one class as its type, version and data."""
    runs: list[dict[str, Any]] = []
    start = 0
    for end in range(1, len(events) + 1):
        if end == len(events) or type(events[end]) is not type(events[start]):
            cls = type(events[start])
            runs.append(
                {
                    "type": cls.event_type,
                    "version": cls.schema_version,
                    "data": _many(cls).dump_python(list(events[start:end]), mode="json"),
                }
            )
            start = end
    return runs


def load_events(runs: Sequence[dict[str, Any]], reader: EventRegistry = registry) -> list[Event]:
    """The events :func:`dump_events` wrote, each at the current version of its contract.

    A run written at the current version is validated in one call; an older one is
    upcast event by event through ``reader``, as the store reads old rows.
    """
    events: list[Event] = []
    for run in runs:
        event_type, version = run["type"], run["version"]
        current = reader.contract(event_type, reader.current_version(event_type))
        if version == current.schema_version:
            # Read as the registry reads (docs/adr/0082): a row a newer release wrote may
            # hold fields this one does not know.
            events += _many(current).validate_python(run["data"], extra="ignore")
        else:
            events += [reader.parse(event_type, version, data) for data in run["data"]]
    return events
