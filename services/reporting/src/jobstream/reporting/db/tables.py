"""Reporting's tables: consumer bookkeeping, the job timeline and the status projection.

Reporting owns no aggregate, so it has no events table: it is a pure projection.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from jobstream.messaging.consumer import ConsumerTables
from jobstream.messaging.tables import define_consumer_tables

metadata = MetaData()
consumer_tables = ConsumerTables(*define_consumer_tables(metadata))

timeline = Table(
    "timeline",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("subject", Text, nullable=False, index=True),
    Column("event_type", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("sequence", Integer, nullable=True),
    Column("causation_id", Text, nullable=True),
    Column("data", JSONB, nullable=False),
)

job_status = Table(
    "job_status",
    metadata,
    Column("work_order_id", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("last_event_type", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
