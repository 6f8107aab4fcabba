"""Raising planned maintenance requests when they fall due: never twice for one occurrence.

Each plan is handled in its own transaction with its row locked, and each occurrence's work
order id is derived from the plan and the due date: two schedulers running at once take
turns per plan, and a rerun finds the id taken and raises nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from jobstream.contracts.common import Channel, Priority
from jobstream.eventstore.store import EventStore
from jobstream.intake import handlers
from jobstream.intake.config import IntakeSettings
from jobstream.intake.db import queries
from jobstream.intake.domain.commands import LogRequest
from jobstream.intake.domain.maintenance import Recurrence, is_due, occurrence_work_order_id
from jobstream.intake.domain.work_order import AlreadyExistsError

log = structlog.get_logger(__name__)

PLANNER = "maintenance-planner"


@dataclass(frozen=True)
class Raised:
    """One occurrence handled: its work order, and whether this run created it."""

    plan_id: str
    due_on: date
    work_order_id: str
    created: bool


async def raise_due(
    engine: AsyncEngine,
    store: EventStore,
    settings: IntakeSettings,
    *,
    today: date,
    now: datetime,
    plan_id: str | None = None,
) -> list[Raised]:
    """Raise a request for every plan occurrence due by ``today`` (within its lead time)."""
    async with engine.connect() as conn:
        plan_ids = [plan_id] if plan_id else await queries.due_plan_ids(conn, today)
    raised: list[Raised] = []
    for pid in plan_ids:
        async with engine.begin() as conn:
            plan = await queries.lock_plan(conn, pid)
            while (
                plan is not None
                and plan["active"]
                and is_due(plan["next_due_on"], plan["lead_days"], today)
            ):
                due = plan["next_due_on"]
                work_order_id = occurrence_work_order_id(pid, due)
                created = True
                try:
                    async with conn.begin_nested():
                        await handlers.log_request(
                            LogRequest(
                                work_order_id=work_order_id,
                                customer_id=plan["customer_id"],
                                site_id=plan["site_id"],
                                asset_id=plan["asset_id"],
                                channel=Channel.PLANNED,
                                description=f"{plan['description']} (due {due.isoformat()})",
                                priority=Priority(plan["priority"]),
                                job_type=plan["job_type"],
                                logged_by=PLANNER,
                                logged_at=now,
                                maintenance_plan_id=pid,
                                external_reference=f"{pid}@{due.isoformat()}",
                            ),
                            handlers.Context(conn, store, settings),
                        )
                except AlreadyExistsError:
                    created = False
                recurrence = Recurrence(plan["starts_on"], plan["every_months"], plan["rule"])
                following = recurrence.after(due)
                await queries.advance_plan(
                    conn,
                    pid,
                    raised_due_on=due,
                    work_order_id=work_order_id,
                    next_due_on=following,
                    now=now,
                )
                raised.append(Raised(pid, due, work_order_id, created))
                log.info("maintenance_raised", plan_id=pid, due=due.isoformat(), created=created)
                plan = await queries.lock_plan(conn, pid)
    return raised
