"""SLA deadlines from priority (skeleton: 24/7 targets; contracts come with intake's issue)."""

from __future__ import annotations

from datetime import datetime, timedelta

from jobstream.contracts.common import Priority

# (respond within, resolve within) per priority, counted round the clock.
DEFAULT_TARGETS: dict[Priority, tuple[timedelta, timedelta]] = {
    Priority.P1: (timedelta(hours=1), timedelta(hours=4)),
    Priority.P2: (timedelta(hours=4), timedelta(hours=24)),
    Priority.P3: (timedelta(hours=24), timedelta(days=3)),
    Priority.P4: (timedelta(days=3), timedelta(days=14)),
}


def deadlines(priority: Priority, logged_at: datetime) -> tuple[datetime, datetime]:
    """(respond_by, resolve_by) for a request logged at ``logged_at``."""
    respond, resolve = DEFAULT_TARGETS[priority]
    return logged_at + respond, logged_at + resolve
