"""Fieldupdates' tables: event store, consumer bookkeeping and the technicians' jobs."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from jobstream.eventstore.tables import define_events_table
from jobstream.idempotency import define_idempotency_table
from jobstream.messaging.consumer import ConsumerTables
from jobstream.messaging.tables import define_consumer_tables

metadata = MetaData()
events = define_events_table(metadata)
consumer_tables = ConsumerTables(*define_consumer_tables(metadata))
idempotency_keys = define_idempotency_table(metadata)

assignments = Table(
    "assignments",
    metadata,
    Column("work_order_id", Text, primary_key=True),
    Column("technician_id", Text, nullable=False, index=True),
    Column("status", Text, nullable=False),
    Column("job_pack", JSONB, nullable=False),
    Column("dispatched_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False),
)
