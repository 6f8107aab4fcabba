"""Dispatch's tables: event store, consumer bookkeeping, its inputs and its read models.

Read models projected from dispatch's own events (``technicians``, ``absences``, ``jobs``)
are rebuilt by replaying the events table (``projections.rebuild``). The input tables
(``work_orders``, ``site_notes``, ``site_visits``) hold what other services told dispatch;
they are rebuilt by replaying those topics into fresh tables.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Double, Index, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from jobstream.eventstore.tables import define_events_table
from jobstream.idempotency import define_idempotency_table
from jobstream.messaging.consumer import ConsumerTables
from jobstream.messaging.tables import define_consumer_tables

metadata = MetaData()
events = define_events_table(metadata)
consumer_tables = ConsumerTables(*define_consumer_tables(metadata))
idempotency_keys = define_idempotency_table(metadata)

technicians = Table(
    "technicians",
    metadata,
    Column("technician_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("profile", JSONB, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

absences = Table(
    "absences",
    metadata,
    Column("absence_id", Text, primary_key=True),
    Column("technician_id", Text, nullable=False, index=True),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
)

# Live location from field's TechnicianLocated (and the site of a just-finished job).
locations = Table(
    "technician_locations",
    metadata,
    Column("technician_id", Text, primary_key=True),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("located_at", DateTime(timezone=True), nullable=False),
)

work_orders = Table(
    "work_orders",
    metadata,
    Column("work_order_id", Text, primary_key=True),
    Column("details", JSONB, nullable=False),
    Column("priority", Text, nullable=False),
    Column("site_id", Text, nullable=False, index=True),
    Column("status", Text, nullable=False),
    Column("correlation_id", Text, nullable=True),
    Column("released_at", DateTime(timezone=True), nullable=False),
    Column("field_status", Text, nullable=True),
    Column("field_technician_id", Text, nullable=True),
    Column("arrived_at", DateTime(timezone=True), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("ended_at", DateTime(timezone=True), nullable=True),
)

jobs = Table(
    "jobs",
    metadata,
    Column("work_order_id", Text, primary_key=True),
    Column("state", Text, nullable=False),
    Column("technician_id", Text, nullable=True),
    Column("window_start", DateTime(timezone=True), nullable=True),
    Column("window_end", DateTime(timezone=True), nullable=True),
    Column("eta", DateTime(timezone=True), nullable=True),
    Column("travel_minutes", Integer, nullable=True),
    Column("travel_km", Double, nullable=True),
    Column("decided_by", Text, nullable=False),
    Column("forced", Boolean, nullable=False),
    Column("force_reason", Text, nullable=True),
    Column("reasons", JSONB, nullable=False),
    Column("considered", JSONB, nullable=False),
    Column("failure_reason", Text, nullable=True),
    Column("failure_detail", Text, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    # The first JobScheduled's instant; decided_at moves with every later decision.
    Column("first_scheduled_at", DateTime(timezone=True), nullable=True),
    Column("dispatched_to", Text, nullable=True),
    Column("dispatched_at", DateTime(timezone=True), nullable=True),
    Index("ix_jobs_technician_window", "technician_id", "window_start"),
)

site_notes = Table(
    "site_notes",
    metadata,
    Column("note_id", Text, primary_key=True),
    Column("site_id", Text, nullable=False, index=True),
    Column("work_order_id", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("written_by", Text, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
)

site_visits = Table(
    "site_visits",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("site_id", Text, nullable=False, index=True),
    Column("work_order_id", Text, nullable=False),
    Column("job_type", Text, nullable=False),
    Column("technician_id", Text, nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=False),
    Column("outcome", Text, nullable=False),
    Column("summary", Text, nullable=False),
)
