"""Command handlers: technicians and dispatcher overrides — load, decide, append, re-plan,
all in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event
from jobstream.contracts.dispatch import TechnicianProfile
from jobstream.dispatch.config import DispatchSettings
from jobstream.dispatch.domain import technicians as tech
from jobstream.dispatch.domain.decision import Cause, Decision
from jobstream.dispatch.domain.evaluator import QUALIFICATION, Violation, violations
from jobstream.dispatch.domain.optimiser import optimise
from jobstream.dispatch.domain.plan import Plan, Visit, to_minutes
from jobstream.dispatch.domain.travel import TravelModel
from jobstream.dispatch.projections import project
from jobstream.dispatch.scheduling import load, record, store
from jobstream.eventstore.store import ConcurrencyError


class CommandRejected(Exception):
    """A command the current state refuses; ``status`` is the HTTP answer."""

    def __init__(self, status: int, detail: object) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail


# ---------------------------------------------------------------------------------------
# technicians


async def _technician_command(
    conn: AsyncConnection,
    settings: DispatchSettings,
    technician_id: str,
    decide: object,
    expected_version: int | None,
    replan: str,
) -> tuple[list[Event], int]:
    """Fold the technician, decide, append, project, then re-plan what the change touches."""
    stream = tech.stream_id(technician_id)
    state, version = await store.fold(conn, stream, tech.Technician(technician_id), tech.evolve)
    if expected_version is not None and expected_version != version:
        raise ConcurrencyError(stream, expected_version, version)
    assert callable(decide)
    new_events: list[Event] = decide(state)
    if not new_events:
        return [], version
    recorded = await store.append(conn, stream, version, new_events)
    await project(conn, recorded)
    first = recorded[0]
    decision = await load(conn, settings, first.occurred_at)
    if replan in ("repair", "both") and technician_id in decision.plan.routes:
        decision.repair(technician_id, f"{technician_id}'s working time or skills changed")
    if technician_id not in decision.plan.crews:
        decision.repair(technician_id, f"{technician_id} is no longer active")
    if replan in ("retry", "both"):
        decision.retry_unplaced()
    await record(conn, decision, Cause(first.event_id, first.occurred_at, "engine"))
    return new_events, recorded[-1].stream_version


async def register_technician(
    conn: AsyncConnection,
    settings: DispatchSettings,
    technician_id: str,
    profile: TechnicianProfile,
    now: datetime,
) -> int:
    """TechnicianRegistered; waiting jobs may now be placed. Returns the stream version."""
    _, version = await _technician_command(
        conn,
        settings,
        technician_id,
        lambda s: tech.decide_register(s, profile, now),
        None,
        "retry",
    )
    return version


async def update_technician(
    conn: AsyncConnection,
    settings: DispatchSettings,
    technician_id: str,
    profile: TechnicianProfile,
    by: str,
    now: datetime,
    expected_version: int | None,
) -> int:
    """TechnicianProfileUpdated; their visits are re-checked and waiting jobs retried."""
    _, version = await _technician_command(
        conn,
        settings,
        technician_id,
        lambda s: tech.decide_update_profile(s, profile, by, now),
        expected_version,
        "both",
    )
    return version


async def record_absence(
    conn: AsyncConnection,
    settings: DispatchSettings,
    technician_id: str,
    absence_id: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    by: str,
    now: datetime,
) -> int:
    """TechnicianAbsenceRecorded; visits inside it move to someone else or are unscheduled."""
    _, version = await _technician_command(
        conn,
        settings,
        technician_id,
        lambda s: tech.decide_record_absence(s, absence_id, starts_at, ends_at, reason, by, now),
        None,
        "repair",
    )
    return version


async def cancel_absence(
    conn: AsyncConnection,
    settings: DispatchSettings,
    technician_id: str,
    absence_id: str,
    by: str,
    now: datetime,
) -> int:
    """TechnicianAbsenceCancelled; the freed time may take waiting jobs."""
    _, version = await _technician_command(
        conn,
        settings,
        technician_id,
        lambda s: tech.decide_cancel_absence(s, absence_id, by, now),
        None,
        "retry",
    )
    return version


# ---------------------------------------------------------------------------------------
# dispatcher overrides


@dataclass(frozen=True)
class Override:
    """A dispatcher's assign or move."""

    work_order_id: str
    technician_id: str
    start: datetime | None
    force: bool
    force_reason: str | None
    by: str
    command_id: str
    at: datetime


def _open_job(decision: Decision, work_order_id: str) -> None:
    if work_order_id not in decision.plan.jobs:
        raise CommandRejected(404, f"no open work order {work_order_id}")


def override_violations(plan: Plan, visit: Visit, travel: TravelModel) -> list[Violation]:
    """The hard constraints a visit would break on its technician's timeline."""
    trial = plan.copy()
    trial.remove(visit.job_id)
    before = set(violations(trial, travel))
    trial.put(visit)
    return [v for v in violations(trial, travel) if v not in before]


async def assign(
    conn: AsyncConnection, settings: DispatchSettings, cmd: Override, *, must_be_placed: bool
) -> None:
    """Put a job on a technician (at ``start``, or where the engine finds room on them)."""
    decision = await load(conn, settings, cmd.at)
    _open_job(decision, cmd.work_order_id)
    plan = decision.plan
    job = plan.jobs[cmd.work_order_id]
    current = plan.visit_of(cmd.work_order_id)
    if must_be_placed and current is None:
        raise CommandRejected(409, f"{cmd.work_order_id} is not scheduled; assign it instead")
    if current is not None and current.frozen and not cmd.force:
        raise CommandRejected(409, f"{cmd.work_order_id} is under way and frozen; force to move it")
    if cmd.technician_id not in plan.crews:
        raise CommandRejected(409, f"{cmd.technician_id} is not an active technician")
    label = "moved" if current is not None else "assigned"
    decision.note(cmd.work_order_id, f"{label} by dispatcher {cmd.by}")
    if cmd.start is None:
        if cmd.force:
            raise CommandRejected(
                422, {"field": "start", "error": "a forced assignment needs start"}
            )
        alone = Plan(
            plan.jobs, {cmd.technician_id: plan.crews[cmd.technician_id]}, plan.routes, plan.now
        )
        plan.remove(cmd.work_order_id)
        placement = decision.engine.options(alone, job)
        if placement.option is None:
            if current is not None:
                plan.put(current)
            reasons = [a.reason for a in placement.considered]
            raise CommandRejected(
                409, {"error": "no room that keeps the hard constraints", "reasons": reasons}
            )
        decision.engine.apply(plan, placement.option, cmd.work_order_id)
        decision.placements[cmd.work_order_id] = placement
        for v in placement.option.pushed:
            decision.note(
                v.job_id, f"pushed later by dispatcher {cmd.by}'s assignment of {cmd.work_order_id}"
            )
    else:
        start = to_minutes(cmd.start)
        visit = Visit(
            cmd.work_order_id, cmd.technician_id, start, start + job.duration, forced=cmd.force
        )
        broken = override_violations(
            plan, Visit(visit.job_id, visit.technician_id, visit.start, visit.end), decision.travel
        )
        unqualified = [v for v in broken if v.kind == QUALIFICATION]
        if unqualified:
            raise CommandRejected(
                409,
                {
                    "error": "the technician is not qualified; this cannot be forced",
                    "violations": unqualified,
                },
            )
        if broken and not cmd.force:
            raise CommandRejected(
                409,
                {
                    "error": "breaks hard constraints; force with a reason to override",
                    "violations": broken,
                },
            )
        if broken:
            decision.forced[cmd.work_order_id] = cmd.force_reason or ""
            decision.note(cmd.work_order_id, "forced over: " + "; ".join(broken)[:400])
        if start + job.duration > job.resolve_by:
            decision.note(cmd.work_order_id, "finishes after the resolve-by deadline (SLA breach)")
        plan.remove(cmd.work_order_id)
        plan.put(
            visit if broken else Visit(visit.job_id, visit.technician_id, visit.start, visit.end)
        )
    await record(conn, decision, Cause(cmd.command_id, cmd.at, cmd.by))


async def unassign(
    conn: AsyncConnection,
    settings: DispatchSettings,
    work_order_id: str,
    reason: str,
    by: str,
    command_id: str,
    at: datetime,
) -> None:
    """Take a job off its technician; it waits, held, in the unscheduled lane."""
    decision = await load(conn, settings, at)
    _open_job(decision, work_order_id)
    current = decision.plan.visit_of(work_order_id)
    if current is None:
        raise CommandRejected(409, f"{work_order_id} is not scheduled")
    decision.unplace(work_order_id, f"unassigned by dispatcher {by}: {reason}")
    await record(conn, decision, Cause(command_id, at, by))


async def optimise_day(
    conn: AsyncConnection,
    settings: DispatchSettings,
    day_start: datetime,
    day_end: datetime,
    by: str,
    command_id: str,
    at: datetime,
) -> dict[str, object]:
    """Re-solve one day with the VROOM day optimiser; every moved job is rescheduled."""
    decision = await load(conn, settings, at)
    outcome = optimise(
        decision.plan,
        decision.travel,
        (to_minutes(day_start), to_minutes(day_end)),
        timeout_s=settings.optimiser_seconds,
    )
    if outcome.kept_original:
        return {"moved": 0, "placed": 0, "note": outcome.note}
    before = decision.before
    decision.plan.routes = outcome.plan.routes
    after = {v.job_id: v for route in decision.plan.routes.values() for v in route}
    moved = placed = 0
    for job_id, visit in after.items():
        old = before.get(job_id)
        if old is None:
            placed += 1
            decision.note(job_id, f"placed by the day optimiser run by {by}")
        elif (old.technician_id, old.start) != (visit.technician_id, visit.start):
            moved += 1
            decision.note(job_id, f"re-planned by the day optimiser run by {by}")
    await record(conn, decision, Cause(command_id, at, by))
    return {"moved": moved, "placed": placed, "note": ""}
