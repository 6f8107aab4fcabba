"""Append with expected version, load and fold: the write side of every service."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event, EventRegistry, registry
from jobstream.eventstore.tables import NOTIFY_CHANNEL


class ConcurrencyError(Exception):
    """The stream moved on since it was loaded: reload and decide again, or answer 409."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        """Stream ``stream_id`` is at version ``actual``; the caller expected ``expected``."""
        super().__init__(f"stream {stream_id} is at version {actual}, expected {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored: its data plus its place in the stream and the log."""

    position: int
    event_id: str
    stream_id: str
    stream_version: int
    data: Event
    occurred_at: datetime
    correlation_id: str | None
    causation_id: str | None


@dataclass(frozen=True)
class StreamAppend:
    """New events for one stream, after ``expected_version`` (see EventStore.append)."""

    stream_id: str
    expected_version: int
    events: Sequence[Event]
    correlation_id: str | None = None
    causation_id: str | None = None
    event_ids: Sequence[str] | None = None
    occurred_at: datetime | Sequence[datetime] | None = None


def _rows(a: StreamAppend) -> list[dict[str, Any]]:
    """The events table's rows for one stream's new events."""
    if a.occurred_at is None or isinstance(a.occurred_at, datetime):
        times = [a.occurred_at or datetime.now(UTC)] * len(a.events)
    else:
        times = list(a.occurred_at)
        if len(times) != len(a.events):
            raise ValueError(f"{len(times)} times given for {len(a.events)} events")
    ids = list(a.event_ids) if a.event_ids else [str(uuid.uuid4()) for _ in a.events]
    return [
        {
            "event_id": event_id,
            "stream_id": a.stream_id,
            "stream_version": a.expected_version + offset + 1,
            "subject": event.subject,
            "event_type": event.event_type,
            "schema_version": event.schema_version,
            "topic": event.topic,
            "data": event.model_dump(mode="json"),
            "correlation_id": a.correlation_id or event_id,
            "causation_id": a.causation_id,
            "occurred_at": when,
        }
        for offset, (event, event_id, when) in enumerate(zip(a.events, ids, times, strict=True))
    ]


S = TypeVar("S")


class EventStore:
    """Event-sourced aggregates in one service's ``events`` table."""

    def __init__(self, events: Table, reader: EventRegistry = registry) -> None:
        """Streams in the ``events`` table, read back through ``reader``'s contracts."""
        self.events = events
        self.reader = reader

    def _lock_key(self, subject: str) -> Any:
        """The advisory lock that serialises appends about ``subject`` in this table."""
        return func.hashtextextended(f"{self.events.name}:{len(subject)}:{subject}", 0)

    async def current_version(self, conn: AsyncConnection, stream_id: str) -> int:
        """The stream's last version (0 when empty)."""
        version = await conn.scalar(
            select(func.coalesce(func.max(self.events.c.stream_version), 0)).where(
                self.events.c.stream_id == stream_id
            )
        )
        return int(version or 0)

    async def append(
        self,
        conn: AsyncConnection,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[Event],
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        event_ids: Sequence[str] | None = None,
        occurred_at: datetime | Sequence[datetime] | None = None,
    ) -> list[RecordedEvent]:
        """Append ``new_events`` after ``expected_version``; raise ConcurrencyError if moved.

        ``occurred_at`` (ce_time) is when the events happened: one time for all, one per
        event (an offline device's actions each happened at their own device time), or
        now. Must run inside the caller's transaction, so that query tables written by
        the same command commit (or roll back) with the events.
        """
        [recorded] = await self.append_streams(
            conn,
            [
                StreamAppend(
                    stream_id,
                    expected_version,
                    new_events,
                    correlation_id=correlation_id,
                    causation_id=causation_id,
                    event_ids=event_ids,
                    occurred_at=occurred_at,
                )
            ],
        )
        return recorded

    async def append_streams(
        self, conn: AsyncConnection, appends: Sequence[StreamAppend]
    ) -> list[list[RecordedEvent]]:
        """Append to several streams at once, each as ``append`` would; their recorded events.

        One lock statement, one version check and one insert for all of them, instead of
        four round trips per stream (a dispatch decision writes to several jobs). Any
        stream that moved raises ConcurrencyError and nothing is written.
        """
        if len({a.stream_id for a in appends}) != len(appends):
            raise ValueError("each stream may be appended to once per call")
        busy = [a for a in appends if a.events]
        if not busy:
            return [[] for _ in appends]
        # Serialise appends per subject (the Kafka key; ADR 0079): a position is assigned
        # at insert but becomes visible at commit, so two writers of one subject must not
        # overlap, or the relay could publish the later position first. Writers of other
        # subjects go on in parallel; the relay's published_at queue never skips a row
        # that commits late (ADR 0003). The locks are taken in sorted order, one after the
        # other as unnest yields them; a transaction that appends about several subjects
        # in turn (a dispatch decision) holds its own lock first (dispatch's plan lock).
        subjects = sorted({e.subject for a in busy for e in a.events})
        await self._lock_subjects(conn, subjects)
        actual = await self._versions(conn, [a.stream_id for a in busy])
        for a in busy:
            if actual.get(a.stream_id, 0) != a.expected_version:
                raise ConcurrencyError(a.stream_id, a.expected_version, actual.get(a.stream_id, 0))
        rows = [row for a in busy for row in _rows(a)]
        try:
            result = await conn.execute(
                insert(self.events).returning(self.events.c.position, self.events.c.event_id),
                rows,
            )
        except IntegrityError as exc:
            if "uq_events_stream_version" in str(exc.orig):
                first = busy[0]
                raise ConcurrencyError(first.stream_id, first.expected_version, -1) from exc
            raise
        positions = {str(r.event_id): r.position for r in result}
        await conn.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
        by_stream: dict[str, list[RecordedEvent]] = {}
        events = [(a, e) for a in busy for e in a.events]
        for row, (a, event) in zip(rows, events, strict=True):
            by_stream.setdefault(a.stream_id, []).append(
                RecordedEvent(
                    position=positions[row["event_id"]],
                    event_id=row["event_id"],
                    stream_id=a.stream_id,
                    stream_version=row["stream_version"],
                    data=event,
                    occurred_at=row["occurred_at"],
                    correlation_id=row["correlation_id"],
                    causation_id=a.causation_id,
                )
            )
        return [by_stream.get(a.stream_id, []) for a in appends]

    async def _lock_subjects(self, conn: AsyncConnection, subjects: list[str]) -> None:
        """Take the append locks of ``subjects`` (sorted) in one statement, in that order."""
        keys = [f"{self.events.name}:{len(s)}:{s}" for s in subjects]
        await conn.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, 0))"
                " FROM unnest(CAST(:keys AS text[])) AS k"
            ),
            {"keys": keys},
        )

    async def _versions(self, conn: AsyncConnection, stream_ids: list[str]) -> dict[str, int]:
        """The last version of each of ``stream_ids`` that has events."""
        t = self.events
        rows = await conn.execute(
            select(t.c.stream_id, func.max(t.c.stream_version))
            .where(t.c.stream_id.in_(stream_ids))
            .group_by(t.c.stream_id)
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def load(
        self, conn: AsyncConnection, stream_id: str, *, after: int = 0
    ) -> list[RecordedEvent]:
        """The stream's events after version ``after``, oldest first, upcast to current ones."""
        t = self.events
        result = await conn.execute(
            select(t)
            .where(t.c.stream_id == stream_id, t.c.stream_version > after)
            .order_by(t.c.stream_version)
        )
        return [
            RecordedEvent(
                position=r.position,
                event_id=str(r.event_id),
                stream_id=r.stream_id,
                stream_version=r.stream_version,
                data=self.reader.parse(r.event_type, r.schema_version, r.data),
                occurred_at=r.occurred_at,
                correlation_id=r.correlation_id,
                causation_id=r.causation_id,
            )
            for r in result
        ]

    async def fold(
        self,
        conn: AsyncConnection,
        stream_id: str,
        initial: S,
        evolve: Callable[[S, Event], S],
    ) -> tuple[S, int]:
        """Load a stream and fold it into state; returns (state, version)."""
        state = initial
        version = 0
        for recorded in await self.load(conn, stream_id):
            state = evolve(state, recorded.data)
            version = recorded.stream_version
        return state, version
