"""Reporting's projections: every event into the event log, then its job or technician
refolded from the log, so the projected row depends only on the events, not their order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import EventRegistry
from jobstream.contracts.topics import TECHNICIANS
from jobstream.messaging.consumer import Handler
from jobstream.messaging.envelope import Envelope
from jobstream.reporting.db import queries
from jobstream.reporting.db.tables import jobs, technicians
from jobstream.reporting.domain import jobs as job_domain
from jobstream.reporting.domain import technicians as tech_domain
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


async def refold(
    conn: AsyncConnection,
    topic: str,
    subject: str,
    job_table: Table = jobs,
    technician_table: Table = technicians,
) -> None:
    """Recompute one job's or technician's row from every event the log holds for it."""
    events = await queries.events_of(conn, subject)
    if topic == TECHNICIANS:
        row = technician_row(fold_technician(subject, events))
        await queries.upsert(conn, technician_table, "technician_id", [row])
    else:
        await queries.upsert(conn, job_table, "work_order_id", [job_row(fold_job(subject, events))])


async def project_event(conn: AsyncConnection, envelope: Envelope) -> None:
    """Keep the event and bring its job's or technician's row up to date."""
    if not await queries.record_event(conn, log_values(envelope)):
        return
    if envelope.type == queries.LOCATION_PING:
        return  # kept in the log for analysts; no projection folds location pings
    await refold(conn, envelope.data.topic, envelope.subject)


def handlers_for(reader: EventRegistry) -> dict[str, Handler]:
    """The projection handles every event type there is."""
    return {cls.event_type: project_event for cls in reader.all_contracts()}
