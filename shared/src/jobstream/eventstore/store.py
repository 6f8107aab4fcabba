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
        if not new_events:
            return []
        # Serialise appends per subject (the Kafka key; ADR 0079): a position is assigned
        # at insert but becomes visible at commit, so two writers of one subject must not
        # overlap, or the relay could publish the later position first. Writers of other
        # subjects go on in parallel; the relay's published_at queue never skips a row
        # that commits late (ADR 0003). One append takes its subjects' locks in sorted
        # order; a transaction that appends about several subjects in turn (a dispatch
        # decision) holds its own lock first (dispatch's plan lock).
        for subject in sorted({event.subject for event in new_events}):
            await conn.execute(select(func.pg_advisory_xact_lock(self._lock_key(subject))))
        actual = await self.current_version(conn, stream_id)
        if actual != expected_version:
            raise ConcurrencyError(stream_id, expected_version, actual)
        if occurred_at is None or isinstance(occurred_at, datetime):
            times = [occurred_at or datetime.now(UTC)] * len(new_events)
        else:
            times = list(occurred_at)
            if len(times) != len(new_events):
                raise ValueError(f"{len(times)} times given for {len(new_events)} events")
        ids = list(event_ids) if event_ids else [str(uuid.uuid4()) for _ in new_events]
        rows: list[dict[str, Any]] = []
        for offset, (event, event_id, when) in enumerate(zip(new_events, ids, times, strict=True)):
            rows.append(
                {
                    "event_id": event_id,
                    "stream_id": stream_id,
                    "stream_version": expected_version + offset + 1,
                    "subject": event.subject,
                    "event_type": event.event_type,
                    "schema_version": event.schema_version,
                    "topic": event.topic,
                    "data": event.model_dump(mode="json"),
                    "correlation_id": correlation_id or event_id,
                    "causation_id": causation_id,
                    "occurred_at": when,
                }
            )
        try:
            result = await conn.execute(
                insert(self.events).returning(self.events.c.position, self.events.c.event_id),
                rows,
            )
        except IntegrityError as exc:
            if "uq_events_stream_version" in str(exc.orig):
                raise ConcurrencyError(stream_id, expected_version, -1) from exc
            raise
        positions = {str(r.event_id): r.position for r in result}
        await conn.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
        return [
            RecordedEvent(
                position=positions[row["event_id"]],
                event_id=row["event_id"],
                stream_id=stream_id,
                stream_version=row["stream_version"],
                data=event,
                occurred_at=row["occurred_at"],
                correlation_id=row["correlation_id"],
                causation_id=causation_id,
            )
            for row, event in zip(rows, new_events, strict=True)
        ]

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
