"""Dispatch's tables: event store, consumer bookkeeping, technicians and jobs."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Double, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

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
    Column("skills", ARRAY(Text), nullable=False),
    Column("certifications", ARRAY(Text), nullable=False),
    Column("home_lat", Double, nullable=False),
    Column("home_lon", Double, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("work_order_id", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("technician_id", Text, nullable=True, index=True),
    Column("window_start", DateTime(timezone=True), nullable=True),
    Column("window_end", DateTime(timezone=True), nullable=True),
    Column("travel_minutes", Integer, nullable=True),
    Column("reasons", JSONB, nullable=False),
    Column("job_pack", JSONB, nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=False),
)
