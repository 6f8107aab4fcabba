"""Planning decisions, the I/O around the pure ``domain.decision``: load, record.

Every decision runs inside one transaction that holds the plan lock: ``load`` reads
technicians, absences, open work orders and the schedule and hands them to
``domain.decision.planned``; the caller changes the plan; ``record`` appends the events
``domain.decision.events_for`` derives for each changed job (ids derived from the causing
event), then projects them. "Now" is the causing event's time.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event
from jobstream.contracts.common import WorkOrderDetails
from jobstream.contracts.dispatch import CarriedNote, JobPack, SiteVisit, TechnicianProfile
from jobstream.dispatch.config import DispatchSettings
from jobstream.dispatch.db import queries
from jobstream.dispatch.db.tables import events
from jobstream.dispatch.domain.decision import (
    Cause,
    Decision,
    changes,
    events_for,
    legs,
    not_before,
    planned,
)
from jobstream.dispatch.domain.plan import Visit, to_datetime
from jobstream.dispatch.projections import project
from jobstream.eventstore.store import EventStore, StreamAppend
from jobstream.ids import derived_id

store = EventStore(events)


# Work order details and technician profiles parsed from their JSON text, kept while the
# text is the same: most of a plan is unchanged from one decision to the next, and
# validating every open work order again for each one made a decision's cost grow with
# the plan. The models are frozen, so sharing them is safe; the size bounds the memory
# (a few KiB each) above any plausible number of open work orders.
# Read tolerantly (ADR 0082): during a rolling upgrade a newer instance may have written
# a field this one does not know.
_details = lru_cache(maxsize=50_000)(WorkOrderDetails.read_json)
_profile = lru_cache(maxsize=5_000)(TechnicianProfile.read_json)


async def load(conn: AsyncConnection, settings: DispatchSettings, now: datetime) -> Decision:
    """Lock the plan and load it as it stands at ``now``."""
    await queries.lock_plan(conn)
    work_orders = {r["work_order_id"]: r for r in await queries.open_work_order_inputs(conn)}
    for row in work_orders.values():
        row["details"] = _details(row["details"])
    technicians = await queries.technician_inputs(conn)
    for row in technicians:
        row["profile"] = _profile(row["profile"])
    return planned(
        settings=settings,
        now=now,
        technicians=technicians,
        absences=list(await queries.absence_rows(conn)),
        work_orders=work_orders,
        schedule={r["work_order_id"]: r for r in await queries.plan_rows(conn)},
        site_technicians=await queries.site_technicians(conn),
    )


async def record(conn: AsyncConnection, decision: Decision, cause: Cause) -> list[Event]:
    """Append the events of every job ``decision`` changed, derived from ``cause``.

    All the jobs' streams are appended to in one multi-stream insert, after one read of
    their heads, and then projected.
    """
    into = legs(decision)
    found = changes(decision)
    heads = await _stream_heads(conn, [change.work_order_id for change in found])
    appends: list[StreamAppend] = []
    for change in found:
        wo = change.work_order_id
        row = decision.work_orders[wo]
        version, last_at = heads.get(wo, (0, None))
        at = not_before(cause.at, last_at)
        pack = None
        if change.needs_pack and change.new is not None:
            pack = await _job_pack(conn, wo, row["details"], change.new)
        out = events_for(decision, change, cause, at, pack, into)
        if out:
            appends.append(
                StreamAppend(
                    wo,
                    version,
                    out,
                    correlation_id=row.get("correlation_id") or cause.event_id,
                    causation_id=cause.event_id,
                    event_ids=[derived_id(cause.event_id, wo, e.event_type) for e in out],
                    occurred_at=at,
                )
            )
    recorded = await store.append_streams(conn, appends)
    await project(conn, [r for stream in recorded for r in stream])
    return [e for a in appends for e in a.events]


async def _job_pack(
    conn: AsyncConnection, work_order_id: str, details: WorkOrderDetails, visit: Visit
) -> JobPack:
    site = details.site.site_id
    notes = await queries.notes_for_site(conn, site, work_order_id)
    history = await queries.history_for_site(conn, site, work_order_id)
    return JobPack(
        details=details,
        window_start=to_datetime(visit.start),
        window_end=to_datetime(visit.end),
        notes_carried_forward=tuple(
            CarriedNote(
                note_id=n["note_id"],
                work_order_id=n["work_order_id"],
                text=n["text"],
                written_by=n["written_by"],
                written_at=n["written_at"],
            )
            for n in notes
        ),
        site_history=tuple(
            SiteVisit(
                work_order_id=h["work_order_id"],
                job_type=h["job_type"],
                technician_id=h["technician_id"],
                completed_at=h["completed_at"],
                outcome=h["outcome"],
                summary=h["summary"],
            )
            for h in history
        ),
    )


async def _stream_heads(
    conn: AsyncConnection, work_order_ids: list[str]
) -> dict[str, tuple[int, datetime | None]]:
    """Each job's stream version and its last event's time (absent: an empty stream)."""
    if not work_order_ids:
        return {}
    rows = await conn.execute(
        select(
            events.c.stream_id, func.max(events.c.stream_version), func.max(events.c.occurred_at)
        )
        .where(events.c.stream_id.in_(work_order_ids))
        .group_by(events.c.stream_id)
    )
    return {r[0]: (int(r[1]), r[2]) for r in rows}
