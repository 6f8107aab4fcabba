"""Billing's tables: the write side (public schema) and one projection generation's tables.

Write side, migrated by Alembic: the event store / outbox and its snapshots, the document
number series, the pricing configuration versions, idempotency keys and the generations
registry.

Projection: every table of ``projection_metadata`` lives in the placeholder schema
``projection``, mapped at run time to one generation's schema (``billing_g3``) with
SQLAlchemy's ``schema_translate_map``. A rebuild creates the next generation's schema from
these models, fills it from offset zero and then switches (docs/adr/0043).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from jobstream.eventstore.snapshots import define_snapshots_table
from jobstream.eventstore.tables import define_events_table
from jobstream.idempotency import define_idempotency_table
from jobstream.messaging.consumer import ConsumerTables
from jobstream.messaging.tables import define_consumer_tables

PROJECTION = "projection"

# --------------------------------------------------------------------------------------
# write side

metadata = MetaData()
events = define_events_table(metadata)
# Each work order's billing documents folded (BillingState), kept with its stream's events.
snapshots = define_snapshots_table(metadata)
idempotency_keys = define_idempotency_table(metadata)

document_series = Table(
    "document_series",
    metadata,
    Column("series", Text, primary_key=True),
    # Gapless: incremented in the transaction that appends the document's event.
    Column("last_number", BigInteger, nullable=False),
)

rate_cards = Table(
    "rate_cards",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("effective_from", DateTime(timezone=True), nullable=False, unique=True),
    Column("document", JSONB, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

price_book = Table(
    "price_book",
    metadata,
    Column("sku", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("effective_from", DateTime(timezone=True), nullable=False),
    Column("document", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("sku", "version", name="pk_price_book"),
    UniqueConstraint("sku", "effective_from", name="uq_price_book_sku_effective_from"),
)

contracts = Table(
    "contracts",
    metadata,
    Column("contract_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("effective_from", DateTime(timezone=True), nullable=False),
    Column("document", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("contract_id", "version", name="pk_contracts"),
    UniqueConstraint("contract_id", "effective_from", name="uq_contracts_effective_from"),
)

generations = Table(
    "projection_generations",
    metadata,
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("schema_name", Text, nullable=False, unique=True),
    # building → active → retired; a rebuild that fails verification stays "failed".
    Column("state", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("activated_at", DateTime(timezone=True), nullable=True),
    Column("retired_at", DateTime(timezone=True), nullable=True),
    Column("report", JSONB, nullable=True),
)
Index(
    "uq_projection_generations_one_active",
    generations.c.state,
    unique=True,
    postgresql_where=generations.c.state == "active",
)

# --------------------------------------------------------------------------------------
# one projection generation (schema "projection", translated at run time)

# Index names leave the schema out, so every generation's indexes are named alike.
PROJECTION_NAMING = {"ix": "ix_%(table_name)s_%(column_0_N_name)s"}
projection_metadata = MetaData(schema=PROJECTION, naming_convention=PROJECTION_NAMING)
consumer_tables = ConsumerTables(*define_consumer_tables(projection_metadata))

work_order_details = Table(
    "work_order_details",
    projection_metadata,
    Column("event_id", Text, primary_key=True),
    Column("work_order_id", Text, nullable=False, index=True),
    Column("event_type", Text, nullable=False),
    # When the version took effect (released_at / amended_at): the version in force at a
    # trigger is the latest one not after the trigger's time.
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column("details", JSONB, nullable=False),
)

technician_profiles = Table(
    "technician_profiles",
    projection_metadata,
    Column("event_id", Text, primary_key=True),
    Column("technician_id", Text, nullable=False, index=True),
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column("profile", JSONB, nullable=False),
)

field_facts = Table(
    "field_facts",
    projection_metadata,
    Column("work_order_id", Text, nullable=False),
    # Arrival order within the job: all of a job's field events share one partition, so
    # this is the log's order and the same on every replay.
    Column("seq", Integer, nullable=False),
    Column("event_id", Text, nullable=False, unique=True),
    Column("event_type", Text, nullable=False),
    Column("data", JSONB, nullable=False),
    PrimaryKeyConstraint("work_order_id", "seq", name="pk_field_facts"),
)

# Each job's field facts folded (JobHistory) up to a seq, written by the pricing that read
# them: the stream is the job's field_facts, numbered by seq (db/snapshots.py).
history_snapshots = define_snapshots_table(projection_metadata)

jobs = Table(
    "jobs",
    projection_metadata,
    Column("work_order_id", Text, primary_key=True),
    # open | awaiting_inputs | blocked | invoiced | not_charged | reopened | cancelled
    Column("status", Text, nullable=False),
    Column("trigger_event_id", Text, nullable=True),
    Column("trigger_event_type", Text, nullable=True),
    Column("trigger_seq", Integer, nullable=True),
    Column("evaluated_trigger_id", Text, nullable=True),
    Column("blocked_reason", Text, nullable=True),
    Column("waiting_for", JSONB, nullable=True),
    Column("cancelled", Text, nullable=True),
)
Index("ix_jobs_status", jobs.c.status)

invoices = Table(
    "invoices",
    projection_metadata,
    Column("invoice_id", Text, primary_key=True),
    Column("invoice_number", Text, nullable=False, unique=True),
    Column("work_order_id", Text, nullable=False, index=True),
    Column("customer_id", Text, nullable=False, index=True),
    Column("currency", Text, nullable=False),
    Column("net_total_minor", BigInteger, nullable=False),
    Column("tax_total_minor", BigInteger, nullable=False),
    Column("gross_total_minor", BigInteger, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, index=True),
    Column("due_on", Date, nullable=False),
    # issued | part_paid | paid | credited
    Column("status", Text, nullable=False),
    Column("paid_minor", BigInteger, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=True),
    Column("credit_note_id", Text, nullable=True),
    Column("replaces_invoice_id", Text, nullable=True),
    Column("document", JSONB, nullable=False),
)

credit_notes = Table(
    "credit_notes",
    projection_metadata,
    Column("credit_note_id", Text, primary_key=True),
    Column("credit_note_number", Text, nullable=False, unique=True),
    Column("invoice_id", Text, nullable=False, unique=True),
    Column("work_order_id", Text, nullable=False, index=True),
    Column("customer_id", Text, nullable=False, index=True),
    Column("currency", Text, nullable=False),
    Column("gross_total_minor", BigInteger, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, index=True),
    Column("document", JSONB, nullable=False),
)

payments = Table(
    "payments",
    projection_metadata,
    Column("event_id", Text, primary_key=True),
    Column("invoice_id", Text, nullable=False, index=True),
    Column("work_order_id", Text, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", Text, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("document", JSONB, nullable=False),
)
