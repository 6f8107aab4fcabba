"""Billing's tables: event store, consumer bookkeeping, invoices and number series."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from jobstream.eventstore.tables import define_events_table
from jobstream.messaging.consumer import ConsumerTables
from jobstream.messaging.tables import define_consumer_tables

metadata = MetaData()
events = define_events_table(metadata)
consumer_tables = ConsumerTables(*define_consumer_tables(metadata))

invoice_series = Table(
    "invoice_series",
    metadata,
    Column("series", Text, primary_key=True),
    Column("last_number", BigInteger, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", Text, primary_key=True),
    Column("invoice_number", Text, nullable=False, unique=True),
    # One invoice per job: a redelivered or replayed completion cannot invoice twice.
    Column("work_order_id", Text, nullable=False, unique=True),
    Column("customer_id", Text, nullable=False, index=True),
    Column("currency", Text, nullable=False),
    Column("net_total_minor", BigInteger, nullable=False),
    Column("tax_total_minor", BigInteger, nullable=False),
    Column("gross_total_minor", BigInteger, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("document", JSONB, nullable=False),
)
