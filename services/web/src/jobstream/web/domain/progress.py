"""What a customer is told about their request: one step of five, in plain words.

The step comes from intake's work order row (its status, the planned window dispatch
booked, the ETA once the technician sets off, the arrival and the outcome).

Office statuses are not shown as they are: a customer does not need to know that a job
is "released" or "approved", only whether someone is coming and when. The plan's own ETA
is kept back until travel starts: before that it is a guess that moves with every other
job of the day, and the window is the promise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any


class Step(IntEnum):
    """Where a request is, in the order a customer lives through it."""

    RECEIVED = 1
    SCHEDULING = 2
    BOOKED = 3
    ON_THE_WAY = 4
    ON_SITE = 5
    COMPLETED = 6
    VISITED = 7  # the visit ended without finishing the job
    CLOSED = 8  # cancelled, rejected or merged: nobody is coming


# The steps drawn as the progress line; the last ones replace COMPLETED when they apply.
TRACK = (Step.RECEIVED, Step.SCHEDULING, Step.BOOKED, Step.ON_THE_WAY, Step.ON_SITE)
TRACK_LABELS = {
    Step.RECEIVED: "Received",
    Step.SCHEDULING: "Scheduling",
    Step.BOOKED: "Booked",
    Step.ON_THE_WAY: "On the way",
    Step.ON_SITE: "On site",
    Step.COMPLETED: "Completed",
}

_CLOSED = {
    "cancelled": ("Cancelled", "This request was cancelled; nobody will visit for it."),
    "rejected": ("Not going ahead", "The office decided not to go ahead with this request."),
    "duplicate": (
        "Joined to another request",
        "The same problem was already reported at this site; follow the other request.",
    ),
}


@dataclass(frozen=True)
class Progress:
    """One request as its customer sees it."""

    step: Step
    label: str
    detail: str
    window: tuple[datetime, datetime] | None = None
    eta: datetime | None = None
    may_rate: bool = False

    @property
    def finished(self) -> bool:
        """Nothing more will happen on this request."""
        return self.step >= Step.COMPLETED


def _at(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def progress(row: dict[str, Any]) -> Progress:
    """The step, the words and the times to show for one work order row."""
    status = row.get("status") or "logged"
    ended = _ended(row, status)
    if ended is not None:
        return ended
    if status in ("logged", "awaiting_approval", "approved"):
        detail = (
            "The office is reviewing the work before booking it."
            if status != "logged"
            else "We have your request and will book a visit."
        )
        return Progress(Step.RECEIVED, "Received", detail)
    return _booked(row)


def _ended(row: dict[str, Any], status: str) -> Progress | None:
    """The progress of a request that is over (closed, completed, visited), or None."""
    if status in _CLOSED:
        label, detail = _CLOSED[status]
        return Progress(Step.CLOSED, label, detail)
    if status == "completed" or row.get("outcome") == "completed":
        return Progress(
            Step.COMPLETED,
            "Completed",
            "The job is done. The invoice follows from our accounts team.",
            may_rate=row.get("rating") is None,
        )
    if status == "incomplete" or row.get("outcome") == "incomplete":
        return Progress(
            Step.VISITED,
            "Visited, not finished",
            "The technician could not finish on this visit; we will arrange the rest.",
        )
    return None


def _booked(row: dict[str, Any]) -> Progress:
    """The progress of a request past the office: scheduling, booked, on the way, on site."""
    start, end = _at(row.get("appointment_start")), _at(row.get("appointment_end"))
    window = (start, end) if start and end else None
    if row.get("responded_at"):
        return Progress(Step.ON_SITE, "Technician on site", "Your technician has arrived.", window)
    if row.get("en_route_at"):
        return Progress(
            Step.ON_THE_WAY,
            "On the way",
            "Your technician is travelling to you.",
            window,
            eta=_at(row.get("eta")),
        )
    if window:
        return Progress(Step.BOOKED, "Booked", "A technician is booked to visit.", window)
    return Progress(
        Step.SCHEDULING, "Scheduling", "We are finding a technician and a time for the visit."
    )
