"""Reporting's tables: consumer bookkeeping, the event log it has seen, the projections of it.

The projections are folded from the log: jobs with their KPI measures, and technicians.
Reporting owns no aggregate, so it has no outbox: it is a pure projection. ``event_log``
keeps every event it consumed, whole, which is what timelines, as-of answers, exports and
rebuilds read; ``jobs``, the ``job_*`` measure tables and ``technicians`` are derived from
it and can be rebuilt.

The measure tables hold, per job, what each KPI of docs/kpis.md needs (domain/kpis/measures.py),
so that a KPI over a period is an SQL aggregate. Their instants are epoch seconds in double
precision, the same floats the pure KPI functions compute with, so the SQL and the Python
answers agree to the last bit at every boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from jobstream.messaging.consumer import ConsumerTables
from jobstream.messaging.tables import define_consumer_tables

metadata = MetaData()
consumer_tables = ConsumerTables(*define_consumer_tables(metadata))

event_log = Table(
    "event_log",
    metadata,
    # Order of arrival at reporting; rebuilds compare counts, never trust this for time.
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", Text, nullable=False, unique=True),
    Column("topic", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("schema_version", Integer, nullable=False),
    Column("sequence", Integer, nullable=True),
    Column("correlation_id", Text, nullable=True),
    Column("causation_id", Text, nullable=True),
    Column("data", JSONB, nullable=False),
    Index("ix_event_log_subject", "subject"),
    Index("ix_event_log_occurred_at", "occurred_at"),
    Index("ix_event_log_type_occurred_at", "event_type", "occurred_at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("work_order_id", Text, primary_key=True),
    Column("status", Text, nullable=True),
    Column("stage", Text, nullable=True),
    Column("last_event_type", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    Column("customer_id", Text, nullable=True),
    Column("site_id", Text, nullable=True),
    Column("asset_id", Text, nullable=True),
    Column("job_type", Text, nullable=True),
    Column("priority", Text, nullable=True),
    Column("technician_id", Text, nullable=True),
    Column("logged_at", DateTime(timezone=True), nullable=True),
    # The latest instant that can matter to a KPI period (last event or deadline).
    Column("horizon_at", DateTime(timezone=True), nullable=True),
    Column("is_open", Boolean, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("facts", JSONB, nullable=False),
    Index("ix_jobs_site_id", "site_id"),
    Index("ix_jobs_asset_id", "asset_id"),
    Index("ix_jobs_status", "status"),
    Index("ix_jobs_logged_at", "logged_at"),
    Index("ix_jobs_horizon_at", "horizon_at"),
)

technicians = Table(
    "technicians",
    metadata,
    Column("technician_id", Text, primary_key=True),
    Column("name", Text, nullable=True),
    Column("event_count", Integer, nullable=False),
    Column("facts", JSONB, nullable=False),
)

# One row per job: the instants and flags the KPIs are computed from, and the job's group
# under each breakdown (docs/kpis.md). Deadlines are the effective ones (priority changes
# applied): as judged if nobody has met them, and as judged against the actual response or
# completion (an SLA is judged with the second once that moment is known at evaluation).
job_measures = Table(
    "job_measures",
    metadata,
    Column("work_order_id", Text, primary_key=True),
    Column("logged_at", Double, nullable=True),
    Column("by_technician", Text, nullable=False),
    Column("by_customer", Text, nullable=False),
    Column("by_job_type", Text, nullable=False),
    Column("by_priority", Text, nullable=False),
    Column("site_id", Text, nullable=True),
    Column("asset_id", Text, nullable=True),
    Column("follow_up_of", Text, nullable=True),
    Column("is_planned", Boolean, nullable=False),
    Column("scheduled_at", Double, nullable=True),
    Column("responded_at", Double, nullable=True),
    Column("completed_at", Double, nullable=True),
    Column("completed_by", Text, nullable=True),
    Column("invoiced_at", Double, nullable=True),
    Column("repeat_visit", Boolean, nullable=False),
    Column("technician_flagged", Boolean, nullable=False),
    # The first re-opening after the first completion.
    Column("reopened_at", Double, nullable=True),
    # The first cancellation or rejection.
    Column("withdrawn_at", Double, nullable=True),
    Column("respond_due", Double, nullable=True),
    Column("respond_due_if_met", Double, nullable=True),
    Column("resolve_due", Double, nullable=True),
    Column("resolve_due_if_met", Double, nullable=True),
    # The customer's rating of the visit (customer satisfaction), and whom it counts for by
    # technician: the one the rating names, else the job's technician group.
    Column("rating_score", Integer, nullable=True),
    Column("rated_at", Double, nullable=True),
    Column("rating_by_technician", Text, nullable=True),
    Index("ix_job_measures_completed_at", "completed_at"),
    Index("ix_job_measures_scheduled_at", "scheduled_at"),
    Index("ix_job_measures_responded_at", "responded_at"),
    Index("ix_job_measures_invoiced_at", "invoiced_at"),
    # First-time fix looks for a later job at the same site (and asset), or one naming it.
    Index("ix_job_measures_site_logged", "site_id", "logged_at"),
    Index("ix_job_measures_follow_up_of", "follow_up_of", "logged_at"),
)

# Material entries after corrections (parts usage).
job_parts = Table(
    "job_parts",
    metadata,
    Column("work_order_id", Text, nullable=False),
    Column("entry_id", Text, nullable=False),
    Column("used_at", Double, nullable=True),
    Column("sku", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("quantity_milli", BigInteger, nullable=False),
    Column("unit", Text, nullable=False),
    PrimaryKeyConstraint("work_order_id", "entry_id", name="pk_job_parts"),
    Index("ix_job_parts_used_at", "used_at"),
)

# Labour minutes by technician and instant (utilisation).
job_labour = Table(
    "job_labour",
    metadata,
    Column("work_order_id", Text, nullable=False),
    Column("n", Integer, nullable=False),
    Column("at", Double, nullable=True),
    Column("technician_id", Text, nullable=False),
    Column("minutes", Double, nullable=False),
    PrimaryKeyConstraint("work_order_id", "n", name="pk_job_labour"),
    Index("ix_job_labour_at", "at"),
)

# Invoices and credit notes (revenue); ``by_technician`` is whom the amount counts for.
job_money = Table(
    "job_money",
    metadata,
    Column("work_order_id", Text, nullable=False),
    Column("n", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("issued_at", Double, nullable=True),
    Column("currency", Text, nullable=False),
    Column("net_minor", BigInteger, nullable=False),
    Column("by_technician", Text, nullable=False),
    PrimaryKeyConstraint("work_order_id", "n", name="pk_job_money"),
    Index("ix_job_money_issued_at", "issued_at"),
)

# When a job was open (logged, not completed, cancelled or rejected) and at which priority:
# [opened_at, closed_at), closed_at NULL while it still is (backlog).
job_open_spans = Table(
    "job_open_spans",
    metadata,
    Column("work_order_id", Text, nullable=False),
    Column("opened_at", Double, nullable=False),
    Column("closed_at", Double, nullable=True),
    Column("logged_at", Double, nullable=False),
    Column("priority", Text, nullable=False),
    PrimaryKeyConstraint("work_order_id", "opened_at", name="pk_job_open_spans"),
    Index("ix_job_open_spans_opened_at", "opened_at"),
)


# Each job's facts as last folded, and where the fold stands (projections.py): the next
# events are folded onto them when they sort after everything folded, else the job is
# refolded from the log. A cache of the log, rebuilt with the jobs projection; the facts are
# kept as JSON text, whose key order (the order of entries, invoices …) the measure rows
# follow, where JSONB would reorder them.
job_snapshots = Table(
    "job_snapshots",
    metadata,
    Column("work_order_id", Text, primary_key=True),
    # The codec's version (projections.FACTS_SCHEMA): a row of another one is not read.
    Column("schema_version", Integer, nullable=False),
    Column("facts", Text, nullable=False),
    # {"last": [epoch µs, sequence, event id] | null, "pending": [cause ids]}; NULL when the
    # events hold a causation cycle (every later event then refolds the job).
    Column("position", JSONB, nullable=True),
)


@dataclass(frozen=True)
class Generation:
    """One set of the tables a fold writes: the live one, or a rebuild's new tables."""

    event_log: Table
    jobs: Table
    job_measures: Table
    job_parts: Table
    job_labour: Table
    job_money: Table
    job_open_spans: Table
    job_snapshots: Table
    technicians: Table

    def tables(self) -> dict[str, Table]:
        """Every table by its role (field name)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


LIVE = Generation(
    event_log=event_log,
    jobs=jobs,
    job_measures=job_measures,
    job_parts=job_parts,
    job_labour=job_labour,
    job_money=job_money,
    job_open_spans=job_open_spans,
    job_snapshots=job_snapshots,
    technicians=technicians,
)

# The projections `jobstream-reporting rebuild` can rebuild from the event log, by the
# Generation fields (tables) each one consists of.
JOB_TABLES = (
    "jobs",
    "job_measures",
    "job_parts",
    "job_labour",
    "job_money",
    "job_open_spans",
    "job_snapshots",
)
# Child tables of a job: replaced whole on each refold.
JOB_CHILD_TABLES = ("job_parts", "job_labour", "job_money", "job_open_spans")
REBUILDABLE: dict[str, tuple[str, ...]] = {"jobs": JOB_TABLES, "technicians": ("technicians",)}
