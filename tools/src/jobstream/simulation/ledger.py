"""The simulation's ground truth: what it sent and what the APIs answered, per job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobstream.simulation.scenario import Request


@dataclass
class Action:
    """One device action as sent, and the first answer that decided it."""

    action_id: str
    technician_id: str
    work_order_id: str
    type: str
    device_time: datetime
    device_seq: int
    payload: dict[str, Any]
    status: str = "pending"  # applied | rejected (as first decided) | pending
    reason: str | None = None
    answers: list[str] = field(default_factory=list)


@dataclass
class Job:
    """A work order the simulation caused, and everything it knows about it."""

    work_order_id: str
    request: Request | None  # None for follow-ups, which intake raises itself
    customer_id: str
    site_id: str
    asset_id: str | None
    channel: str
    priority: str
    job_type: str
    logged_at: datetime
    respond_by: datetime
    resolve_by: datetime
    contract_id: str | None = None
    released_at: datetime | None = None
    approved: bool = False
    follow_up_of: str | None = None
    # Dispatch as observed: the first decision seen and every assignment seen.
    scheduled_at: datetime | None = None
    assignments: list[tuple[str, datetime | None]] = field(default_factory=list)
    failed_reason: str | None = None
    technician_id: str | None = None
    handled: bool = False
    actions: list[Action] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    uploaded: set[str] = field(default_factory=set)  # photos fieldupdates accepted
    payments: list[tuple[str, int, datetime]] = field(default_factory=list)

    def applied(self, kind: str | None = None) -> list[Action]:
        """Applied actions (of one type), in device order."""
        found = [a for a in self.actions if a.status == "applied"]
        if kind is not None:
            found = [a for a in found if a.type == kind]
        return sorted(found, key=lambda a: (a.device_time, a.device_seq, a.action_id))

    def first(self, kind: str) -> Action | None:
        """The first applied action of a type."""
        found = self.applied(kind)
        return found[0] if found else None

    @property
    def outcome(self) -> Action | None:
        """The applied completion or could-not-complete, if any."""
        return self.first("complete") or self.first("could_not_complete")


@dataclass
class Ledger:
    """Every job of the run, and run-wide facts."""

    started_at: datetime
    jobs: dict[str, Job] = field(default_factory=dict)
    triaged_emails: list[str] = field(default_factory=list)
    pricing: dict[str, Any] = field(default_factory=dict)
    sync_batches: int = 0
    sync_duplicates: int = 0
    # Jobs dispatch gave a technician outside this run (a shared stack: the demo's, another
    # run's): reassigned by the office to one of the run's own, or left unworked.
    claimed_from_others: list[str] = field(default_factory=list)
    left_with_others: list[str] = field(default_factory=list)
    unexpected_rejections: list[str] = field(default_factory=list)
    finished_at: datetime | None = None

    def add(self, job: Job) -> Job:
        """Record a job (a second record under one id is a bug in the run, not the stack)."""
        if job.work_order_id in self.jobs:
            raise AssertionError(f"work order {job.work_order_id} recorded twice")
        self.jobs[job.work_order_id] = job
        return job
