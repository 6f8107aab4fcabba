"""A job's field events folded, in log order, up to a trigger: what there is to price."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

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
    """Labour, materials and the outcome in force, as of one event of the job."""

    outcome: Outcome | None
    labour: tuple[LabourEntry, ...]
    materials: tuple[MaterialEntry, ...]
    technician_ids: frozenset[str]


def fold_history(events: Iterable[tuple[str, Event]]) -> JobHistory:
    """Fold (event id, event) pairs in log order.

    A reopen clears the outcome: the job is open again and nothing is charged until it ends
    again.
    """
    outcome: Outcome | None = None
    labour: list[LabourEntry] = []
    materials: dict[str, MaterialEntry] = {}
    for event_id, event in events:
        match event:
            case TimeLogged(kind=TimeKind.LABOUR):
                labour.append(
                    LabourEntry(
                        event_id,
                        event.technician_id,
                        event.minutes,
                        event.started_at,
                        event.ended_at,
                    )
                )
            case MaterialUsed():
                materials[event.entry_id] = MaterialEntry(
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
            case MaterialUsageCorrected():
                entry = materials.get(event.entry_id)
                if entry is not None:
                    materials[event.entry_id] = replace(
                        entry,
                        quantity_milli=event.quantity_milli,
                        correction_event_ids=(*entry.correction_event_ids, event_id),
                    )
            case JobCompleted():
                outcome = Outcome(
                    event_id,
                    "JobCompleted",
                    event.technician_id,
                    event.completed_at,
                    event.labour_minutes,
                )
            case JobIncomplete():
                outcome = Outcome(
                    event_id,
                    "JobIncomplete",
                    event.technician_id,
                    event.ended_at,
                    event.labour_minutes,
                    event.reason,
                )
            case JobReopened():
                outcome = None
    technicians = {e.technician_id for e in labour}
    if outcome is not None:
        technicians.add(outcome.technician_id)
    return JobHistory(outcome, tuple(labour), tuple(materials.values()), frozenset(technicians))


def trigger_of(event_id: str, event: Event) -> Trigger:
    """The trigger an event makes."""
    return Trigger(event_id, event.event_type, event_time(event))
