"""Causal order of a job's events gathered from several topics.

Clocks alone cannot order a timeline: topics are not ordered with each other, and a
reaction is stamped with its cause's business time (ADR 0005), which can be a moment
before the cause was stored. So an event is placed only after its cause, and among the
events free to go next the earliest (time, stream sequence, id) goes first. The result
depends only on the set of events, never on the order they were read in.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

TimelineEvent = Mapping[str, Any]


def _sort_key(event: TimelineEvent) -> tuple[datetime, int, str]:
    sequence = event.get("sequence")
    return (event["occurred_at"], sequence if sequence is not None else 0, event["event_id"])


def causal_order(events: Sequence[TimelineEvent]) -> list[TimelineEvent]:
    """``events`` with each after its cause, otherwise by time (a Kahn topological sort)."""
    by_id = {e["event_id"]: e for e in events}
    effects: dict[str, list[str]] = {}
    waiting_on: dict[str, int] = {}
    for e in events:
        cause = e.get("causation_id")
        if cause and cause in by_id and cause != e["event_id"]:
            effects.setdefault(cause, []).append(e["event_id"])
            waiting_on[e["event_id"]] = 1
    ready = [(_sort_key(e), e["event_id"]) for e in events if e["event_id"] not in waiting_on]
    heapq.heapify(ready)
    ordered: list[TimelineEvent] = []
    while ready:
        _, event_id = heapq.heappop(ready)
        ordered.append(by_id[event_id])
        for effect in effects.get(event_id, []):
            waiting_on[effect] -= 1
            if waiting_on[effect] == 0:
                heapq.heappush(ready, (_sort_key(by_id[effect]), effect))
    if len(ordered) < len(by_id):
        # Only corrupt data makes a causation cycle; show those events rather than drop them.
        placed = {e["event_id"] for e in ordered}
        ordered.extend(
            sorted((e for e in by_id.values() if e["event_id"] not in placed), key=_sort_key)
        )
    return ordered


# ---------------------------------------------------------------------------------------
# where a fold stands: whether later events go on the end of the causal order

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SortKey = tuple[int, int, str]


def sort_key(event: TimelineEvent) -> SortKey:
    """The order among events free to go next, with the time as epoch microseconds.

    The same order as the timeline's own (a datetime and its microseconds sort alike), in
    a form that survives JSON unchanged whatever the time zone it was read in.
    """
    at, sequence, event_id = _sort_key(event)
    return (at - EPOCH) // timedelta(microseconds=1), sequence, event_id


@dataclass(frozen=True)
class Position:
    """Where a fold of some events stands in the causal order.

    ``last`` is the greatest sort key among them (None: no events); ``pending`` the causes
    they name that are not among them (an event that is one of those must be placed before
    its effect, not at the end).
    """

    last: SortKey | None = None
    pending: frozenset[str] = frozenset()

    def as_json(self) -> dict[str, Any]:
        """The position as JSON (what the job's snapshot row keeps)."""
        return {
            "last": list(self.last) if self.last is not None else None,
            "pending": sorted(self.pending),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Position:
        """The position :meth:`as_json` wrote."""
        last = data["last"]
        return cls(
            (int(last[0]), int(last[1]), str(last[2])) if last is not None else None,
            frozenset(data["pending"]),
        )


def _cause(event: TimelineEvent) -> str | None:
    cause: str | None = event.get("causation_id")
    return cause if cause and cause != event["event_id"] else None


def position_of(
    events: Sequence[TimelineEvent], ordered: Sequence[TimelineEvent] | None = None
) -> Position | None:
    """The position of a fold of ``events``; None when they hold a causation cycle.

    ``ordered`` is their causal order when the caller has it already. After a cycle the
    timeline ends with the events caught in it, so no later event can be known to go on the
    end: every one refolds.
    """
    ids = {e["event_id"] for e in events}
    placed: set[str] = set()
    for event in causal_order(events) if ordered is None else ordered:
        cause = _cause(event)
        if cause is not None and cause in ids and cause not in placed:
            return None
        placed.add(event["event_id"])
    pending = frozenset(c for e in events if (c := _cause(e)) is not None and c not in ids)
    return Position(max((sort_key(e) for e in events), default=None), pending)


def appended(
    position: Position, events: Sequence[TimelineEvent], logged: Set[str]
) -> tuple[list[TimelineEvent], Position] | None:
    """``events`` in the order they go on the end of the timeline, and the position after.

    None unless the causal order of the folded events with ``events`` is the folded events'
    order followed by ``events`` sorted: each of them sorts after every event before it and
    is not the cause of any. ``events`` are new (none among the folded ones); ``logged``
    holds those of their causes that are among the folded events.
    """
    ordered = sorted(events, key=sort_key)
    last, pending = position.last, set(position.pending)
    for event in ordered:
        key = sort_key(event)
        if (last is not None and key <= last) or event["event_id"] in pending:
            return None
        cause = _cause(event)
        if cause is not None and cause not in logged:
            pending.add(cause)
        last = key
    # A cause met later in the batch is among the events now, no longer pending; a pending
    # one was checked above never to be one of them.
    return ordered, Position(last, frozenset(pending) - {e["event_id"] for e in ordered})
