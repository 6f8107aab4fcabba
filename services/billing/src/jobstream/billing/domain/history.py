"""A job's field events folded, in log order, up to a trigger: what there is to price."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from jobstream.billing.domain.pricing import LabourEntry, MaterialEntry, Outcome, Trigger
from jobstream.contracts.base import Event
from jobstream.contracts.field import (
    JobCompleted,
    JobIncomplete,
    JobReopened,
    MaterialUsageCorrected,
    MaterialUsed,
    TimeKind,
    TimeLogged,
)

# Field events that change what a job is charged.
PRICED_TYPES = frozenset(
    {"TimeLogged", "MaterialUsed", "MaterialUsageCorrected", "JobCompleted", "JobIncomplete"}
)
OUTCOME_TYPES = frozenset({"JobCompleted", "JobIncomplete"})
FIELD_TYPES = PRICED_TYPES | {"JobReopened"}


def event_time(event: Event) -> datetime:
    """When a field event happened, for choosing the versions in force."""
    match event:
        case JobCompleted():
            return event.completed_at
        case JobIncomplete():
            return event.ended_at
        case JobReopened():
            return event.reopened_at
        case MaterialUsageCorrected():
            return event.corrected_at
        case TimeLogged() | MaterialUsed():
            return event.device_time
    raise TypeError(f"not a field event billing reads: {event.event_type}")


@dataclass(frozen=True)
class JobHistory:
    """Labour, materials and the outcome in force, as of one event of the job (``last``).

    What a pricing reads, and what billing's snapshot of a job's field facts keeps
    (``db/snapshots.py``): ``last`` is the latest event folded, as the trigger it makes.
    """

    outcome: Outcome | None = None
    labour: tuple[LabourEntry, ...] = ()
    materials: tuple[MaterialEntry, ...] = ()
    last: Trigger | None = None

    @property
    def technician_ids(self) -> frozenset[str]:
        """Whoever logged labour, and whoever ended the visit in force."""
        technicians = {e.technician_id for e in self.labour}
        if self.outcome is not None:
            technicians.add(self.outcome.technician_id)
        return frozenset(technicians)


def _placed(
    materials: tuple[MaterialEntry, ...], entry: MaterialEntry
) -> tuple[MaterialEntry, ...]:
    """``materials`` with ``entry`` in place of the one of its entry id, else appended."""
    for i, kept in enumerate(materials):
        if kept.entry_id == entry.entry_id:
            return (*materials[:i], entry, *materials[i + 1 :])
    return (*materials, entry)


def _used(event_id: str, event: MaterialUsed) -> MaterialEntry:
    return MaterialEntry(
        event_id=event_id,
        entry_id=event.entry_id,
        sku=event.sku,
        description=event.description,
        quantity_milli=event.quantity_milli,
        unit=event.unit,
        source=event.source,
        unit_cost_minor=event.unit_cost_minor,
        currency=event.currency,
    )


def _corrected(
    materials: tuple[MaterialEntry, ...], event_id: str, event: MaterialUsageCorrected
) -> tuple[MaterialEntry, ...]:
    """A correction of an entry never used changes nothing."""
    found = next((m for m in materials if m.entry_id == event.entry_id), None)
    if found is None:
        return materials
    corrected = replace(
        found,
        quantity_milli=event.quantity_milli,
        correction_event_ids=(*found.correction_event_ids, event_id),
    )
    return _placed(materials, corrected)


def _outcome(event_id: str, event: JobCompleted | JobIncomplete) -> Outcome:
    if isinstance(event, JobCompleted):
        return Outcome(
            event_id, "JobCompleted", event.technician_id, event.completed_at, event.labour_minutes
        )
    return Outcome(
        event_id,
        "JobIncomplete",
        event.technician_id,
        event.ended_at,
        event.labour_minutes,
        event.reason,
    )


def evolve_history(history: JobHistory, event_id: str, event: Event) -> JobHistory:
    """The history after one more field event of the job, in log order.

    A reopen clears the outcome: the job is open again and nothing is charged until it ends
    again. A material entry used again is replaced where it stands. Any other event (one
    billing does not read) changes nothing.
    """
    if event.event_type not in FIELD_TYPES:
        return history
    changes: dict[str, Any] = {"last": trigger_of(event_id, event)}
    match event:
        case TimeLogged(kind=TimeKind.LABOUR):
            entry = LabourEntry(
                event_id, event.technician_id, event.minutes, event.started_at, event.ended_at
            )
            changes["labour"] = (*history.labour, entry)
        case MaterialUsed():
            changes["materials"] = _placed(history.materials, _used(event_id, event))
        case MaterialUsageCorrected():
            changes["materials"] = _corrected(history.materials, event_id, event)
        case JobCompleted() | JobIncomplete():
            changes["outcome"] = _outcome(event_id, event)
        case JobReopened():
            changes["outcome"] = None
    return replace(history, **changes)


def fold_history(
    events: Iterable[tuple[str, Event]], start: JobHistory | None = None
) -> JobHistory:
    """Fold (event id, event) pairs in log order, onto ``start`` (a job with none yet)."""
    history = start if start is not None else JobHistory()
    for event_id, event in events:
        history = evolve_history(history, event_id, event)
    return history


def trigger_of(event_id: str, event: Event) -> Trigger:
    """The trigger an event makes."""
    return Trigger(event_id, event.event_type, event_time(event))
