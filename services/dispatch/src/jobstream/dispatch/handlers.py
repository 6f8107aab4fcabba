"""Command handlers: technicians and dispatcher overrides, each in one transaction.

A handler is ``verb(cmd, ctx)``: it takes a command from ``domain.commands`` and the
``Context`` it runs in, then loads, decides, appends and re-plans what the change touches.
Refusals are ``jobstream.errors`` (the HTTP layer answers them); an If-Match that no longer
holds is the event store's ``ConcurrencyError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.commands import CommandHandlers
from jobstream.contracts.base import Event
from jobstream.dispatch.config import DispatchSettings
from jobstream.dispatch.domain import technicians as tech
from jobstream.dispatch.domain.commands import (
    CancelAbsence,
    Move,
    OptimiseDay,
    Override,
    RecordAbsence,
    RegisterTechnician,
    Unassign,
    UpdateTechnician,
)
from jobstream.dispatch.domain.decision import Cause, Decision
from jobstream.dispatch.domain.evaluator import DEADLINE, QUALIFICATION, Violation, violations
from jobstream.dispatch.domain.optimiser import optimise
from jobstream.dispatch.domain.plan import Plan, Visit, to_minutes
from jobstream.dispatch.domain.travel import TravelModel
from jobstream.dispatch.projections import project
from jobstream.dispatch.scheduling import load, record, store
from jobstream.errors import ConflictError, InvalidInputError, NotFoundError
from jobstream.eventstore.store import ConcurrencyError

# What a technician change re-plans: their own visits, the waiting jobs, or both.
Replan = Literal["repair", "retry", "both"]


@dataclass(frozen=True)
class Context:
    """What a command runs with: the transaction's connection and dispatch's settings."""

    conn: AsyncConnection
    settings: DispatchSettings


# ---------------------------------------------------------------------------------------
# technicians


async def _technician_command(
    ctx: Context,
    technician_id: str,
    decide: Callable[[tech.Technician], list[Event]],
    *,
    replan: Replan,
    expected_version: int | None = None,
) -> int:
    """Fold the technician, decide, append, project, then re-plan what the change touches.

    The stream's version after the command (the same as before when nothing changed).
    """
    conn, settings = ctx.conn, ctx.settings
    stream = tech.stream_id(technician_id)
    state, version = await store.fold(conn, stream, tech.Technician(technician_id), tech.evolve)
    if expected_version is not None and expected_version != version:
        raise ConcurrencyError(stream, expected_version, version)
    new_events = decide(state)
    if not new_events:
        return version
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
    return recorded[-1].stream_version


async def register_technician(cmd: RegisterTechnician, ctx: Context) -> int:
    """TechnicianRegistered; waiting jobs may now be placed. Returns the stream version."""
    return await _technician_command(
        ctx,
        cmd.technician_id,
        lambda s: tech.decide_register(s, cmd.profile, cmd.at),
        replan="retry",
    )


async def update_technician(cmd: UpdateTechnician, ctx: Context) -> int:
    """TechnicianProfileUpdated; their visits are re-checked and waiting jobs retried."""
    return await _technician_command(
        ctx,
        cmd.technician_id,
        lambda s: tech.decide_update_profile(s, cmd.profile, cmd.by, cmd.at),
        replan="both",
        expected_version=cmd.expected_version,
    )


async def record_absence(cmd: RecordAbsence, ctx: Context) -> int:
    """TechnicianAbsenceRecorded; visits inside it move to someone else or are unscheduled."""
    return await _technician_command(
        ctx,
        cmd.technician_id,
        lambda s: tech.decide_record_absence(
            s, cmd.absence_id, cmd.starts_at, cmd.ends_at, cmd.reason, cmd.by, cmd.at
        ),
        replan="repair",
    )


async def cancel_absence(cmd: CancelAbsence, ctx: Context) -> int:
    """TechnicianAbsenceCancelled; the freed time may take waiting jobs."""
    return await _technician_command(
        ctx,
        cmd.technician_id,
        lambda s: tech.decide_cancel_absence(s, cmd.absence_id, cmd.by, cmd.at),
        replan="retry",
    )


# ---------------------------------------------------------------------------------------
# dispatcher overrides


def _open_job(decision: Decision, work_order_id: str) -> None:
    """Refuse a command about a work order that is not open."""
    if work_order_id not in decision.plan.jobs:
        raise NotFoundError(f"no open work order {work_order_id}")


def override_violations(plan: Plan, visit: Visit, travel: TravelModel) -> list[Violation]:
    """The hard constraints a visit would break on its technician's timeline."""
    trial = plan.copy()
    trial.remove(visit.job_id)
    before = set(violations(trial, travel))
    trial.put(visit)
    return [v for v in violations(trial, travel) if v not in before]


async def assign(cmd: Override, ctx: Context) -> None:
    """Put a job on a technician (at ``start``, or where the engine finds room on them)."""
    await _override(cmd, ctx, must_be_placed=False)


async def move(cmd: Move, ctx: Context) -> None:
    """Move a scheduled job to another technician and/or time, under the checks of assign."""
    await _override(cmd, ctx, must_be_placed=True)


async def _override(cmd: Override, ctx: Context, *, must_be_placed: bool) -> None:
    """Assign or move one job as the dispatcher says, then record what changed."""
    decision = await load(ctx.conn, ctx.settings, cmd.at)
    current = _overridable(decision, cmd, must_be_placed=must_be_placed)
    label = "moved" if current is not None else "assigned"
    decision.note(cmd.work_order_id, f"{label} by dispatcher {cmd.by}")
    if cmd.start is None:
        _find_room(decision, cmd, current)
    else:
        _put_at(decision, cmd, to_minutes(cmd.start))
    await record(ctx.conn, decision, Cause(cmd.command_id, cmd.at, cmd.by))


def _overridable(decision: Decision, cmd: Override, *, must_be_placed: bool) -> Visit | None:
    """The job's visit now, once the job, its state and the technician allow the override."""
    _open_job(decision, cmd.work_order_id)
    plan = decision.plan
    current = plan.visit_of(cmd.work_order_id)
    if must_be_placed and current is None:
        raise ConflictError(f"{cmd.work_order_id} is not scheduled; assign it instead")
    if current is not None and current.frozen and not cmd.force:
        raise ConflictError(f"{cmd.work_order_id} is under way and frozen; force to move it")
    if cmd.technician_id not in plan.crews:
        raise ConflictError(f"{cmd.technician_id} is not an active technician")
    return current


def _find_room(decision: Decision, cmd: Override, current: Visit | None) -> None:
    """Place the job where the engine finds room on the chosen technician (never forced)."""
    if cmd.force:
        raise InvalidInputError("a forced assignment needs start", field="start")
    plan = decision.plan
    job = plan.jobs[cmd.work_order_id]
    alone = Plan(
        plan.jobs, {cmd.technician_id: plan.crews[cmd.technician_id]}, plan.routes, plan.now
    )
    plan.remove(cmd.work_order_id)
    placement = decision.engine.options(alone, job)
    if placement.option is None:
        if current is not None:
            plan.put(current)
        reasons = [a.reason for a in placement.considered]
        raise ConflictError("no room that keeps the hard constraints", reasons=reasons)
    decision.engine.apply(plan, placement.option, cmd.work_order_id)
    decision.placements[cmd.work_order_id] = placement
    for v in placement.option.pushed:
        decision.note(
            v.job_id, f"pushed later by dispatcher {cmd.by}'s assignment of {cmd.work_order_id}"
        )


def _put_at(decision: Decision, cmd: Override, start: int) -> None:
    """Put the job at ``start``; a broken hard constraint is refused unless forced.

    Qualification can never be forced; a forced breach is recorded with its reason.
    """
    plan = decision.plan
    job = plan.jobs[cmd.work_order_id]
    visit = Visit(cmd.work_order_id, cmd.technician_id, start, start + job.duration)
    # A deadline is weighed for the office (ADR 0022): passing it is noted, not refused.
    broken = [v for v in override_violations(plan, visit, decision.travel) if v.kind != DEADLINE]
    unqualified = [v for v in broken if v.kind == QUALIFICATION]
    if unqualified:
        raise ConflictError(
            "the technician is not qualified; this cannot be forced", violations=unqualified
        )
    if broken and not cmd.force:
        raise ConflictError(
            "breaks hard constraints; force with a reason to override", violations=broken
        )
    if broken:
        decision.forced[cmd.work_order_id] = cmd.force_reason or ""
        decision.note(cmd.work_order_id, "forced over: " + "; ".join(broken)[:400])
    if start + job.duration > job.resolve_by:
        decision.note(cmd.work_order_id, "finishes after the resolve-by deadline (SLA breach)")
    plan.remove(cmd.work_order_id)
    plan.put(replace(visit, forced=True) if broken else visit)


async def unassign(cmd: Unassign, ctx: Context) -> None:
    """Take a job off its technician; it waits, held, in the unscheduled lane."""
    decision = await load(ctx.conn, ctx.settings, cmd.at)
    _open_job(decision, cmd.work_order_id)
    if decision.plan.visit_of(cmd.work_order_id) is None:
        raise ConflictError(f"{cmd.work_order_id} is not scheduled")
    decision.unplace(cmd.work_order_id, f"unassigned by dispatcher {cmd.by}: {cmd.reason}")
    await record(ctx.conn, decision, Cause(cmd.command_id, cmd.at, cmd.by))


async def optimise_day(cmd: OptimiseDay, ctx: Context) -> dict[str, object]:
    """Re-solve one day with the VROOM day optimiser; every moved job is rescheduled."""
    by = cmd.by
    decision = await load(ctx.conn, ctx.settings, cmd.at)
    outcome = optimise(
        decision.plan,
        decision.travel,
        (to_minutes(cmd.day_start), to_minutes(cmd.day_end)),
        timeout_s=ctx.settings.optimiser_seconds,
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
    await record(ctx.conn, decision, Cause(cmd.command_id, cmd.at, by))
    return {"moved": moved, "placed": placed, "note": ""}


# Each command type's handler; ``HANDLERS.handle(cmd, ctx)`` runs the one for ``type(cmd)``.
HANDLERS = CommandHandlers(
    register_technician,
    update_technician,
    record_absence,
    cancel_absence,
    assign,
    move,
    unassign,
    optimise_day,
)
