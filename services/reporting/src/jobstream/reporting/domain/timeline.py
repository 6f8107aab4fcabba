"""Causal order of a job's events gathered from several topics.

Clocks alone cannot order a timeline: topics are not ordered with each other, and a
reaction is stamped with its cause's business time (ADR 0005), which can be a moment
before the cause was stored. So an event is placed only after its cause, and among the
events free to go next the earliest (time, stream sequence, id) goes first. The result
depends only on the set of events, never on the order they were read in.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from datetime import datetime
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
