"""Reporting's tables: consumer bookkeeping, the event log it has seen, and the projections
folded from it (jobs and technicians).

Reporting owns no aggregate, so it has no outbox: it is a pure projection. ``event_log``
keeps every event it consumed, whole, which is what timelines, as-of answers, exports and
rebuilds read; ``jobs`` and ``technicians`` are derived from it and can be rebuilt.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
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

# The projections `jobstream-reporting rebuild` can rebuild from the event log.
REBUILDABLE: dict[str, Table] = {"jobs": jobs, "technicians": technicians}
