"""Fieldupdates' tables: event store and snapshots, consumer bookkeeping, jobs, query tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from jobstream.eventstore.snapshots import define_snapshots_table
from jobstream.eventstore.tables import define_events_table
from jobstream.messaging.consumer import ConsumerTables
from jobstream.messaging.tables import define_consumer_tables

metadata = MetaData()
events = define_events_table(metadata)
# Each job's state at its latest version, written with its events (eventstore/snapshots.py).
snapshots = define_snapshots_table(metadata)
consumer_tables = ConsumerTables(*define_consumer_tables(metadata))

# One row per work order known to fieldupdates: who holds it (from dispatch), whether it
# was cancelled (from intake), and the field status (denormalised from the event stream,
# written in the same transaction as the events). The row is also the job's lock.
jobs = Table(
    "jobs",
    metadata,
    Column("work_order_id", Text, primary_key=True),
    Column("technician_id", Text, nullable=True, index=True),
    Column("status", Text, nullable=False),
    Column("job_pack", JSONB, nullable=True),
    Column("site_id", Text, nullable=True),
    Column("window_start", DateTime(timezone=True), nullable=True),
    Column("window_end", DateTime(timezone=True), nullable=True),
    Column("dispatched_at", DateTime(timezone=True), nullable=True),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("cancel_reason", Text, nullable=True),
    Column("withdrawn_reason", Text, nullable=True),
    # The correlation id of the job's first dispatch: field events join the job's chain.
    Column("correlation_id", Text, nullable=True),
    # Stream version after which the current visit (assignment) began.
    Column("visit_started_version", Integer, nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Every technician who ever held a job: a former holder's late actions are conflicts (kept),
# anyone else's are refused outright.
job_technicians = Table(
    "job_technicians",
    metadata,
    Column("work_order_id", Text, nullable=False),
    Column("technician_id", Text, nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("work_order_id", "technician_id", name="pk_job_technicians"),
)

# The ledger of device actions seen: what makes a re-sent action a duplicate.
device_actions = Table(
    "device_actions",
    metadata,
    Column("technician_id", Text, nullable=False),
    Column("action_id", Text, nullable=False),
    Column("work_order_id", Text, nullable=False),
    Column("action_type", Text, nullable=False),
    Column("payload_sha256", Text, nullable=False),
    Column("device_time", DateTime(timezone=True), nullable=False),
    Column("device_seq", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("outcome", Text, nullable=False),
    Column("reason", Text, nullable=True),
    PrimaryKeyConstraint("technician_id", "action_id", name="pk_device_actions"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("attachment_id", Text, primary_key=True),
    Column("work_order_id", Text, nullable=False, index=True),
    Column("technician_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("object_key", Text, nullable=False),
    Column("caption", Text, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)

# The office's inbox of parts requests, across jobs.
parts_requests = Table(
    "parts_requests",
    metadata,
    Column("request_id", Text, primary_key=True),
    Column("work_order_id", Text, nullable=False, index=True),
    Column("technician_id", Text, nullable=False),
    Column("parts", JSONB, nullable=False),
    Column("note", Text, nullable=False),
    Column("device_time", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# Device actions the server could not apply, kept whole for the office.
rejected_actions = Table(
    "rejected_actions",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("work_order_id", Text, nullable=False, index=True),
    Column("technician_id", Text, nullable=False),
    Column("action_id", Text, nullable=False),
    Column("action_type", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("device_time", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # What the office made of it: applied or discarded, why, by whom, when (NULL: waiting).
    Column("resolution", Text, nullable=True),
    Column("resolution_reason", Text, nullable=True),
    Column("resolved_by", Text, nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
)

# Notes a technician carried forward, shown on the next visit to the site.
site_notes = Table(
    "site_notes",
    metadata,
    Column("note_id", Text, primary_key=True),
    Column("site_id", Text, nullable=False),
    Column("work_order_id", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("written_by", Text, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
    Index("ix_site_notes_site_id", "site_id"),
)

# The last kept location ping per technician: the rate limiter's memory.
technician_locations = Table(
    "technician_locations",
    metadata,
    Column("technician_id", Text, primary_key=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("accuracy_m", Float, nullable=True),
    Column("device_time", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("dropped", BigInteger, nullable=False),
)
