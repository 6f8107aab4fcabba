"""Planned maintenance: when a plan's services fall due, and the ids that make raising them safe.

A plan recurs every N months from its first due date, or by an RFC 5545 rule (python-dateutil's
rrule), or not at all: a plan whose next date is set by the technician's "next service due"
at each completion. A request raised for an occurrence gets an id derived from the plan and
the due date, so raising the same occurrence twice (a rerun, two schedulers) finds the id
taken and raises nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

from jobstream.ids import derived_id
from jobstream.intake.domain.work_order import DomainError

# Occurrences far in the past are not looked for beyond this many steps.
MAX_STEPS = 10_000
# The longest period a plan may recur at: ten years.
MAX_EVERY_MONTHS = 120


class _Rule(Protocol):
    """What is used here of a dateutil ``rrule`` (dateutil has no type stubs)."""

    def after(self, dt: datetime, inc: bool = False) -> datetime | None:
        """The first occurrence after ``dt`` (or at it, with ``inc``); None if there is none."""


@dataclass(frozen=True)
class Recurrence:
    """Every ``every_months`` months from ``starts_on``, or by ``rule``, or neither (one-off)."""

    starts_on: date
    every_months: int | None = None
    rule: str | None = None

    def __post_init__(self) -> None:
        """Refuse both a period and a rule, a period out of range, or a rule that is not valid."""
        if self.every_months is not None and self.rule is not None:
            raise DomainError("give every_months or rule, not both", field="rule")
        if self.every_months is not None and not 1 <= self.every_months <= MAX_EVERY_MONTHS:
            raise DomainError(
                f"every_months must be between 1 and {MAX_EVERY_MONTHS}", field="every_months"
            )
        if self.rule is not None:
            self._rrule()  # validates

    def _rrule(self) -> _Rule:
        try:
            rule: _Rule = rrulestr(
                self.rule, dtstart=datetime.combine(self.starts_on, datetime.min.time())
            )
        except (ValueError, TypeError) as exc:
            raise DomainError(f"not a valid RFC 5545 RRULE: {exc}", field="rule") from exc
        if rule.after(datetime.combine(self.starts_on, datetime.min.time()), inc=True) is None:
            raise DomainError("the rule never falls due", field="rule")
        return rule

    def first(self) -> date:
        """The first due date."""
        if self.rule is not None:
            start = datetime.combine(self.starts_on, datetime.min.time())
            found = self._rrule().after(start, inc=True)
            return found.date() if found is not None else self.starts_on
        return self.starts_on

    def after(self, due: date) -> date | None:
        """The next due date strictly after ``due`` (None for a one-off plan)."""
        if self.every_months is not None:
            for step in range(1, MAX_STEPS):
                # Counted from the start each time, so month ends do not drift (31st → 28th).
                candidate: date = self.starts_on + relativedelta(months=step * self.every_months)
                if candidate > due:
                    return candidate
            return None
        if self.rule is not None:
            found = self._rrule().after(datetime.combine(due, datetime.min.time()), inc=False)
            return found.date() if found is not None else None
        return None


def is_due(next_due_on: date | None, lead_days: int, today: date) -> bool:
    """Whether the occurrence due ``next_due_on`` should be raised by ``today``."""
    return next_due_on is not None and next_due_on - timedelta(days=lead_days) <= today


def occurrence_work_order_id(plan_id: str, due_on: date) -> str:
    """The work order id of one plan occurrence: the same for every attempt to raise it."""
    return f"wo-{derived_id('maintenance', plan_id, due_on.isoformat())}"


def next_service_plan_id(site_id: str, asset_id: str | None, job_type: str) -> str:
    """The plan that carries technician-set next service dates for one asset (or site)."""
    return f"plan-{derived_id('next-service', site_id, asset_id or '', job_type)}"


def follow_up_work_order_id(causing_event_id: str) -> str:
    """The follow-up request raised in reaction to one field event: one per event."""
    return f"wo-{derived_id(causing_event_id, 'follow-up')}"
