"""Reporting's projections: each batch into the event log, then what it touched brought up to date.

A projected row depends only on the events, never on the order they were read in
(docs/adr/0050, 0053, 0068). Every technician a consumed batch touched is refolded once
from all its logged events; a job is too, unless its new events go on the end of the
causal order its snapshot was folded in, when they are folded onto the snapshot's facts,
which is the same fold (docs/adr/0083).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
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
from jobstream.reporting.domain.timeline import Position, appended, causal_order, position_of

# The shape of a job_snapshots row's facts and position: bump it when either changes (a key
# added to the facts among them), and every job refolds once on its next event.
FACTS_SCHEMA = 1


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


@dataclass
class FoldedJob:
    """A job's facts and where their fold stands (None: refold on every event)."""

    facts: job_domain.JobFacts
    position: Position | None


def fold_job_at(work_order_id: str, events: Sequence[Mapping[str, Any]]) -> FoldedJob:
    """A job's facts from its events in any order, with the fold's position."""
    ordered = causal_order(list(events))
    return FoldedJob(job_domain.fold(work_order_id, ordered), position_of(events, ordered))


def fold_onto(
    kept: FoldedJob, events: Sequence[Mapping[str, Any]], logged: AbstractSet[str]
) -> FoldedJob | None:
    """The job with new ``events`` folded onto its kept facts; None if it must be refolded.

    Onto them only when the events go on the end of its causal order (``appended``): then
    the result is the fold of all its events. ``logged``: those of the events' causes that
    the kept facts were folded from. The kept facts are changed in place.
    """
    if kept.position is None:
        return None
    found = appended(kept.position, events, logged)
    if found is None:
        return None
    ordered, position = found
    for event in ordered:
        job_domain.evolve(kept.facts, event)
    return FoldedJob(kept.facts, position)


def folded_causes(
    work_order_id: str, events: Iterable[Mapping[str, Any]], held: Mapping[str, Mapping[str, Any]]
) -> set[str]:
    """Of the causes ``events`` name, those among the job's folded events.

    ``held``: what the log held before these events, by event id (subject, topic, type),
    at least for the events' causes; the job's folded events are its logged job events.
    """
    return {
        cause
        for event in events
        if (cause := event["causation_id"]) in held
        and held[cause]["subject"] == work_order_id
        and belongs_to_jobs(held[cause])
    }


def onto_snapshots(
    new_by_job: Mapping[str, Sequence[Mapping[str, Any]]],
    kept: Mapping[str, tuple[str, Mapping[str, Any] | None]],
    held: Mapping[str, Mapping[str, Any]],
) -> tuple[list[FoldedJob], list[str]]:
    """The jobs whose new events fold onto their snapshot, and the ids of those to refold.

    ``new_by_job``: each job's events the log did not hold; ``kept``: the jobs' snapshot
    rows (facts, position); ``held``: as for :func:`folded_causes`. A job without a row,
    or whose new events do not go on the end of its causal order, is to be refolded.
    """
    folded: list[FoldedJob] = []
    refold_ids: list[str] = []
    for work_order_id, new in sorted(new_by_job.items()):
        row = kept.get(work_order_id)
        logged = folded_causes(work_order_id, new, held)
        onto = fold_onto(from_snapshot(*row), new, logged) if row is not None else None
        if onto is None:
            refold_ids.append(work_order_id)
        else:
            folded.append(onto)
    return folded, refold_ids


def snapshot_row(folded: FoldedJob) -> dict[str, Any]:
    """The `job_snapshots` row of a folded job: its facts as JSON text, and the position."""
    return {
        "work_order_id": folded.facts["work_order_id"],
        "schema_version": FACTS_SCHEMA,
        "facts": json.dumps(folded.facts, allow_nan=False),
        "position": folded.position.as_json() if folded.position is not None else None,
    }


def from_snapshot(facts: str, position: Mapping[str, Any] | None) -> FoldedJob:
    """The folded job a `job_snapshots` row keeps (dicts in the order they were filled)."""
    return FoldedJob(json.loads(facts), Position.from_json(position) if position else None)


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
    jobs = [fold_job_at(s, [e for e in by_subject[s] if belongs_to_jobs(e)]) for s in job_ids]
    techs = [
        technician_row(fold_technician(s, [e for e in by_subject[s] if belongs_to_technicians(e)]))
        for s in sorted(technician_ids)
    ]
    await write_jobs(conn, jobs, gen)
    await queries.upsert(conn, gen.technicians, "technician_id", techs)


async def write_jobs(conn: AsyncConnection, folded: Sequence[FoldedJob], gen: Generation) -> None:
    """Write these jobs' rows in every table of the jobs projection, and their snapshots."""
    ordered = sorted(folded, key=lambda job: str(job.facts["work_order_id"]))
    facts = [job.facts for job in ordered]
    await queries.replace_job_rows(conn, gen, [j["work_order_id"] for j in facts], job_rows(facts))
    await queries.upsert(
        conn, gen.job_snapshots, "work_order_id", [snapshot_row(job) for job in ordered]
    )


async def project_batch(
    conn: AsyncConnection, batch: Sequence[Envelope], gen: Generation = LIVE
) -> None:
    """Keep a batch's events in the log, then bring each job and technician it touched up to date.

    A job's new events are folded onto its snapshot when they sort after everything folded
    into it (``fold_onto``); otherwise, and for a job without a snapshot, the job is refolded
    from all its logged events, as every technician the batch touched is.
    """
    # A lost commit after a database crash loses this batch's offsets with its effects, so
    # the projector simply applies it again: no need to wait for the WAL flush. And the
    # insert's lock on the log, taken before any jobs table is read: `rebuild`'s switch
    # holds inserts back (SHARE ROW EXCLUSIVE) while it drops and renames those tables, so
    # waiting for it at the insert while holding a read lock on job_snapshots would deadlock.
    await queries.start_batch(conn, gen.event_log)
    rows = [log_values(e) for e in batch]
    # The log keeps the copy of an event it held already, or met first in this batch (ON
    # CONFLICT DO NOTHING), so that copy is the one folded: exactly what the log now holds.
    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(row["event_id"], row)
    causes = {c for r in first.values() if (c := r["causation_id"])}
    held = await queries.logged_subjects(conn, gen.event_log, [*first, *causes])
    fresh = [r for event_id, r in first.items() if event_id not in held]
    new_by_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in fresh:
        if belongs_to_jobs(row):
            new_by_job[row["subject"]].append(row)
    technician_ids = sorted({r["subject"] for r in fresh if belongs_to_technicians(r)})
    kept = await queries.job_snapshots(conn, gen.job_snapshots, sorted(new_by_job), FACTS_SCHEMA)
    folded, refold_ids = onto_snapshots(new_by_job, kept, held)
    # What the log held for the rest before this batch: read before the batch goes in, so
    # its own events (most of what a catch-up folds) are not read back (docs/adr/0068).
    logged_events = await queries.events_of_subjects(
        conn, gen.event_log, [*refold_ids, *technician_ids]
    )
    await queries.record_events(conn, gen.event_log, rows)
    by_subject: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for event in [*logged_events, *fresh]:
        by_subject[event["subject"]].append(event)
    folded += [
        fold_job_at(wo, [e for e in by_subject[wo] if belongs_to_jobs(e)]) for wo in refold_ids
    ]
    techs = [
        technician_row(fold_technician(s, [e for e in by_subject[s] if belongs_to_technicians(e)]))
        for s in technician_ids
    ]
    await write_jobs(conn, folded, gen)
    await queries.upsert(conn, gen.technicians, "technician_id", techs)


async def keep_for_the_batch(conn: AsyncConnection, envelope: Envelope) -> None:
    """Per record, nothing: project_batch logs and refolds a batch's events together."""


def handlers_for(reader: EventRegistry) -> dict[str, Handler]:
    """The projection takes every event type there is (the work happens per batch)."""
    return {cls.event_type: keep_for_the_batch for cls in reader.all_contracts()}
