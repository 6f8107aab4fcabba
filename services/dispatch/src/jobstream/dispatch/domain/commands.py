"""The commands dispatch takes over HTTP, as types (pure data).

A route builds one from the request and the caller; a handler in ``handlers.py`` runs it
with a ``handlers.Context``. ``by`` is the caller's subject and ``at`` the command's time;
``command_id`` is the cause the plan's events are derived from (ADR 0005).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jobstream.contracts.dispatch import TechnicianProfile


@dataclass(frozen=True)
class RegisterTechnician:
    """A technician joins the registry; waiting jobs may now be placed."""

    technician_id: str
    profile: TechnicianProfile
    at: datetime


@dataclass(frozen=True)
class UpdateTechnician:
    """Replace a technician's profile, at the version the caller read (None: any)."""

    technician_id: str
    profile: TechnicianProfile
    by: str
    at: datetime
    expected_version: int | None = None


@dataclass(frozen=True)
class RecordAbsence:
    """Leave, sickness or training: a period the technician cannot work."""

    technician_id: str
    absence_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class CancelAbsence:
    """Take back a recorded absence; the freed time may take waiting jobs."""

    technician_id: str
    absence_id: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Override:
    """A dispatcher's assign or move: at ``start``, or where the engine finds room on them."""

    work_order_id: str
    technician_id: str
    start: datetime | None
    force: bool
    force_reason: str | None
    by: str
    command_id: str
    at: datetime


@dataclass(frozen=True)
class Move(Override):
    """Move a scheduled job to another technician and/or time (a job not placed is refused)."""


@dataclass(frozen=True)
class Unassign:
    """Take a job off its technician; it waits, held, until a dispatcher assigns it."""

    work_order_id: str
    reason: str
    by: str
    command_id: str
    at: datetime


@dataclass(frozen=True)
class OptimiseDay:
    """Re-solve the plan between ``day_start`` and ``day_end`` with the day optimiser."""

    day_start: datetime
    day_end: datetime
    by: str
    command_id: str
    at: datetime
