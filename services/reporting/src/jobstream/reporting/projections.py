"""Reporting's projections: each batch into the event log, then what it touched refolded once.

Every job and technician a consumed batch touched is refolded once from all its logged
events, so a projected row depends only on the events, never on the order they were read
in (docs/adr/0050, 0053, 0068).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import EventRegistry
from jobstream.contracts.topics import TECHNICIANS
from jobstream.messaging.consumer import Handler
from jobstream.messaging.envelope import Envelope
from jobstream.reporting.db import queries
from jobstream.reporting.db.tables import LIVE, Generation
from jobstream.reporting.domain import jobs as job_domain
from jobstream.reporting.domain import technicians as tech_domain
from jobstream.reporting.domain.kpis.measures import measure
from jobstream.reporting.domain.timeline import causal_order


def log_values(envelope: Envelope) -> dict[str, Any]:
    """The event-log row of one consumed event: its CloudEvents attributes and data."""
    return {
        "event_id": envelope.id,
        "topic": envelope.data.topic,
        "event_type": envelope.type,
        "source": envelope.source,
        "subject": envelope.subject,
        "occurred_at": envelope.time,
        "schema_version": envelope.schema_version,
        "sequence": envelope.sequence,
        "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id,
        "data": envelope.data.model_dump(mode="json"),
    }


def _dt(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def job_row(facts: job_domain.JobFacts) -> dict[str, Any]:
    """The `jobs` row of a job's facts."""
    status = facts["status"]
    return {
        "work_order_id": facts["work_order_id"],
        "status": status,
        "stage": job_domain.STAGE_OF.get(status) if status else None,
        "last_event_type": facts["last_event_type"],
        "updated_at": _dt(facts["updated_at"]),
        "customer_id": facts["customer_id"],
        "site_id": facts["site_id"],
        "asset_id": facts["asset_id"],
        "job_type": facts["job_type"],
        "priority": facts["priority"],
        "technician_id": facts["technician_id"],
        "logged_at": _dt(facts["logged_at"]),
        "horizon_at": _dt(job_domain.horizon(facts)),
        "is_open": status is None or (status in job_domain.PRE_FIELD | job_domain.IN_FIELD),
        "event_count": facts["event_count"],
        "facts": facts,
    }


def technician_row(facts: tech_domain.TechnicianFacts) -> dict[str, Any]:
    """The `technicians` row of a technician's facts."""
    return {
        "technician_id": facts["technician_id"],
        "name": facts["name"],
        "event_count": facts["event_count"],
        "facts": facts,
    }


def fold_job(work_order_id: str, events: Iterable[Mapping[str, Any]]) -> job_domain.JobFacts:
    """A job's facts from its events in any order."""
    return job_domain.fold(work_order_id, causal_order(list(events)))


def fold_technician(
    technician_id: str, events: Iterable[Mapping[str, Any]]
) -> tech_domain.TechnicianFacts:
    """A technician's facts from their events in any order."""
    return tech_domain.fold(technician_id, causal_order(list(events)))


def job_rows(facts: Sequence[job_domain.JobFacts]) -> dict[str, list[dict[str, Any]]]:
    """Every row the jobs projection holds for these jobs, by Generation table name."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in facts:
        measured = measure(job)
        rows["jobs"].append(job_row(job))
        rows["job_measures"].append(measured.measures)
        rows["job_parts"] += measured.parts
        rows["job_labour"] += measured.labour
        rows["job_money"] += measured.money
        rows["job_open_spans"] += measured.open_spans
    return rows


def belongs_to_jobs(event: Mapping[str, Any]) -> bool:
    """Whether an event-log row is folded into a job (not a technician; no location ping)."""
    return event["topic"] != TECHNICIANS and event["event_type"] != queries.LOCATION_PING


def belongs_to_technicians(event: Mapping[str, Any]) -> bool:
    """Whether an event-log row is folded into a technician (pings are not)."""
    return event["topic"] == TECHNICIANS and event["event_type"] != queries.LOCATION_PING


async def refold(
    conn: AsyncConnection,
    job_ids: Sequence[str],
    technician_ids: Sequence[str],
    gen: Generation = LIVE,
) -> None:
    """Recompute these jobs' and technicians' rows from every event the log holds for them."""
    if not job_ids and not technician_ids:
        return
    events = await queries.events_of_subjects(conn, gen.event_log, [*job_ids, *technician_ids])
    await write_folds(conn, job_ids, technician_ids, events, gen)


async def write_folds(
    conn: AsyncConnection,
    job_ids: Sequence[str],
    technician_ids: Sequence[str],
    events: Iterable[Mapping[str, Any]],
    gen: Generation = LIVE,
) -> None:
    """Write these jobs' and technicians' rows folded from ``events``.

    ``events`` must be every event the log holds for them (location pings may be left out).
    """
    by_subject: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for event in events:
        by_subject[event["subject"]].append(event)
    jobs = [fold_job(s, [e for e in by_subject[s] if belongs_to_jobs(e)]) for s in sorted(job_ids)]
    techs = [
        technician_row(fold_technician(s, [e for e in by_subject[s] if belongs_to_technicians(e)]))
        for s in sorted(technician_ids)
    ]
    await queries.replace_job_rows(conn, gen, [j["work_order_id"] for j in jobs], job_rows(jobs))
    await queries.upsert(conn, gen.technicians, "technician_id", techs)


async def project_batch(
    conn: AsyncConnection, batch: Sequence[Envelope], gen: Generation = LIVE
) -> None:
    """Keep a batch's events in the log, then refold each job and technician it touched once."""
    # A lost commit after a database crash loses this batch's offsets with its effects, so
    # the projector simply applies it again: no need to wait for the WAL flush.
    await queries.skip_commit_flush(conn)
    rows = [log_values(e) for e in batch]
    job_ids = sorted({r["subject"] for r in rows if belongs_to_jobs(r)})
    technician_ids = sorted({r["subject"] for r in rows if belongs_to_technicians(r)})
    # What the log held for these subjects before this batch: read before the batch goes in,
    # so its own events (most of what a catch-up folds) are not read back (docs/adr/0068).
    logged = await queries.events_of_subjects(conn, gen.event_log, [*job_ids, *technician_ids])
    await queries.record_events(conn, gen.event_log, rows)
    # The log keeps the copy of an event it held already, or met first in this batch (ON
    # CONFLICT DO NOTHING), so that copy is the one folded: exactly what the log now holds.
    fresh: dict[str, dict[str, Any]] = {}
    for row in rows:
        fresh.setdefault(row["event_id"], row)
    for event in logged:
        fresh.pop(event["event_id"], None)
    await write_folds(conn, job_ids, technician_ids, [*logged, *fresh.values()], gen)


async def keep_for_the_batch(conn: AsyncConnection, envelope: Envelope) -> None:
    """Per record, nothing: project_batch logs and refolds a batch's events together."""


def handlers_for(reader: EventRegistry) -> dict[str, Handler]:
    """The projection takes every event type there is (the work happens per batch)."""
    return {cls.event_type: keep_for_the_batch for cls in reader.all_contracts()}
