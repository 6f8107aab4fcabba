"""Intake's tables: the event store, consumer bookkeeping and the work order list."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text

from jobstream.eventstore.tables import define_events_table
from jobstream.idempotency import define_idempotency_table
from jobstream.messaging.consumer import ConsumerTables
from jobstream.messaging.tables import define_consumer_tables

metadata = MetaData()
events = define_events_table(metadata)
consumer_tables = ConsumerTables(*define_consumer_tables(metadata))
idempotency_keys = define_idempotency_table(metadata)

work_orders = Table(
    "work_orders",
    metadata,
    Column("work_order_id", Text, primary_key=True),
    Column("customer_id", Text, nullable=False, index=True),
    Column("site_id", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("job_type", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("logged_at", DateTime(timezone=True), nullable=False),
    Column("respond_by", DateTime(timezone=True), nullable=False),
    Column("resolve_by", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False),
)
