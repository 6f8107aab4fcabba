"""A job's snapshot: its folded state, and the visit start the fold assumed, as JSON.

The events the job keeps (time entries, materials, notes, the completion …) are written
with their type and schema version and read back through the contracts registry, so a
snapshot taken before a contract gained a version is upcast like the log's own rows.
Bump ``JobCodec.schema_version`` whenever the shape below changes (a field added to
``FieldJob`` among them): rows of the old shape are then not read, and each job folds its
stream once more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jobstream.contracts.field import HoldReason
from jobstream.eventstore.snapshots import Snapshots, dump_events, load_events
from jobstream.fieldupdates.db.tables import snapshots
from jobstream.fieldupdates.domain.state import RECORDED_IN, FieldJob, FieldStatus, VisitFold

# The job's fields that keep events: in order, and at most one.
EVENT_TUPLES = (*RECORDED_IN.values(), "reopened")
EVENT_SINGLES = ("completion", "incomplete")


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


class JobCodec:
    """A ``VisitFold`` as a snapshot row's state, and back."""

    schema_version = 1

    def dump(self, state: VisitFold) -> dict[str, Any]:
        """The fold as JSON."""
        job = state.job
        kept = {name: list(getattr(job, name)) for name in EVENT_TUPLES}
        for name in EVENT_SINGLES:
            single = getattr(job, name)
            kept[name] = [single] if single is not None else []
        return {
            "visit_started_version": state.visit_started_version,
            "work_order_id": job.work_order_id,
            "status": job.status.value,
            "eta": _time(job.eta),
            "hold_reason": job.hold_reason.value if job.hold_reason is not None else None,
            "resolved": sorted(job.resolved),
            "status_history": [[status.value, at.isoformat()] for status, at in job.status_history],
            "events": {name: dump_events(events) for name, events in kept.items()},
        }

    def load(self, data: dict[str, Any]) -> VisitFold:
        """The fold :meth:`dump` wrote."""
        kept = {name: load_events(runs) for name, runs in data["events"].items()}
        events: dict[str, Any] = {name: tuple(kept[name]) for name in EVENT_TUPLES}
        events |= {name: next(iter(kept[name]), None) for name in EVENT_SINGLES}
        hold_reason = data["hold_reason"]
        job = FieldJob(
            work_order_id=data["work_order_id"],
            status=FieldStatus(data["status"]),
            eta=_parse_time(data["eta"]),
            hold_reason=HoldReason(hold_reason) if hold_reason is not None else None,
            resolved=frozenset(data["resolved"]),
            status_history=tuple(
                (FieldStatus(status), datetime.fromisoformat(at))
                for status, at in data["status_history"]
            ),
            **events,
        )
        return VisitFold(job, data["visit_started_version"])


# A job's row is rewritten every 20 events (a load folds at most 19 onto it), and this
# process keeps the latest state of the 256 jobs it last touched: a technician's next action
# then reads only the events since, with no snapshot to decode (eventstore/snapshots.py).
JOB_SNAPSHOTS = Snapshots(snapshots, JobCodec(), kind="field_job", every=20, resident=256)
