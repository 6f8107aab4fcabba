"""Intake's tables: the event store, consumer bookkeeping, records and read models.

Work orders are event-sourced (the ``events`` table); customers, sites, contacts, assets,
contracts, maintenance plans and inbound emails are plain tables (ADR 0010).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from jobstream.eventstore.tables import define_events_table
from jobstream.idempotency import define_idempotency_table
from jobstream.messaging.consumer import ConsumerTables
from jobstream.messaging.tables import define_consumer_tables

metadata = MetaData()
events = define_events_table(metadata)
consumer_tables = ConsumerTables(*define_consumer_tables(metadata))
idempotency_keys = define_idempotency_table(metadata)


def _created() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


customers = Table(
    "customers",
    metadata,
    Column("customer_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("billing_address", Text, nullable=False),
    # Stored lower-cased: inbound email is matched on it.
    Column("billing_email", Text, nullable=True, index=True),
    Column("phone", Text, nullable=True),
    _created(),
)

sites = Table(
    "sites",
    metadata,
    Column("site_id", Text, primary_key=True),
    Column("customer_id", Text, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("time_zone", Text, nullable=False),
    Column("access_instructions", Text, nullable=False, server_default=""),
    _created(),
)

contacts = Table(
    "contacts",
    metadata,
    Column("contact_id", Text, primary_key=True),
    Column("customer_id", Text, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("site_id", Text, ForeignKey("sites.site_id"), nullable=True),
    Column("name", Text, nullable=False),
    Column("phone", Text, nullable=True),
    # Stored lower-cased: inbound email is matched on it.
    Column("email", Text, nullable=True, index=True),
    _created(),
)

assets = Table(
    "assets",
    metadata,
    Column("asset_id", Text, primary_key=True),
    Column("customer_id", Text, ForeignKey("customers.customer_id"), nullable=False),
    Column("site_id", Text, ForeignKey("sites.site_id"), nullable=False, index=True),
    Column("asset_type", Text, nullable=False),
    Column("make", Text, nullable=True),
    Column("model", Text, nullable=True),
    Column("serial_number", Text, nullable=True),
    Column("installed_on", Date, nullable=True),
    _created(),
)

service_contracts = Table(
    "service_contracts",
    metadata,
    Column("contract_id", Text, primary_key=True),
    Column("customer_id", Text, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    # {"P1": {"respond_minutes": 60, "resolve_minutes": 240}, ...}
    Column("targets", JSONB, nullable=False),
    # null: 24/7; else {"1": {"open": "08:00", "close": "18:00"}, ...} by ISO weekday
    Column("business_hours", JSONB, nullable=True),
    Column("holidays", JSONB, nullable=False),
    # empty: every site of the customer
    Column("site_ids", JSONB, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    _created(),
)

maintenance_plans = Table(
    "maintenance_plans",
    metadata,
    Column("plan_id", Text, primary_key=True),
    Column("customer_id", Text, ForeignKey("customers.customer_id"), nullable=False),
    Column("site_id", Text, ForeignKey("sites.site_id"), nullable=False, index=True),
    Column("asset_id", Text, ForeignKey("assets.asset_id"), nullable=True),
    Column("job_type", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("every_months", Integer, nullable=True),
    Column("rule", Text, nullable=True),
    Column("lead_days", Integer, nullable=False),
    Column("next_due_on", Date, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("last_raised_due_on", Date, nullable=True),
    Column("last_work_order_id", Text, nullable=True),
    # Who set the current next_due_on: the recurrence, the office, or a completed job.
    Column("next_due_source", Text, nullable=False),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

inbound_emails = Table(
    "inbound_emails",
    metadata,
    Column("email_id", Text, primary_key=True),
    Column("message_id", Text, nullable=False),
    Column("sender", Text, nullable=False),
    Column("sender_name", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("sent_at", Text, nullable=True),
    Column("raw_key", Text, nullable=False),
    Column("attachments", JSONB, nullable=False),
    # logged (matched and logged), triage (waiting for the office), assigned, dismissed
    Column("status", Text, nullable=False, index=True),
    Column("triage_reason", Text, nullable=True),
    Column("customer_id", Text, nullable=True),
    Column("work_order_id", Text, nullable=True),
    Column("handled_by", Text, nullable=True),
    Column("handled_at", DateTime(timezone=True), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("message_id", name="uq_inbound_emails_message_id"),
)

# The office's list: one row per work order, kept by the command handlers (intake's own
# events), by the field policies (travel, arrival, completion) and from dispatch's
# decisions (the appointment).
work_orders = Table(
    "work_orders",
    metadata,
    Column("work_order_id", Text, primary_key=True),
    Column("customer_id", Text, nullable=False, index=True),
    Column("customer_name", Text, nullable=True),
    Column("site_id", Text, nullable=False, index=True),
    Column("asset_id", Text, nullable=True, index=True),
    Column("contract_id", Text, nullable=True),
    Column("channel", Text, nullable=False),
    Column("job_type", Text, nullable=True),
    Column("description", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("status", Text, nullable=False, index=True),
    Column("logged_at", DateTime(timezone=True), nullable=False),
    Column("logged_by", Text, nullable=False),
    Column("respond_by", DateTime(timezone=True), nullable=False),
    Column("resolve_by", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=True),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("responded_at", DateTime(timezone=True), nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("technician_id", Text, nullable=True),
    Column("outcome", Text, nullable=True),
    Column("first_time_fix", Boolean, nullable=True),
    Column("follow_up_needed", Boolean, nullable=True),
    Column("external_reference", Text, nullable=True),
    Column("follow_up_of", Text, nullable=True),
    Column("maintenance_plan_id", Text, nullable=True),
    Column("possible_duplicate_of", Text, nullable=True),
    Column("similarity", Double, nullable=True),
    Column("duplicate_of", Text, nullable=True),
    Column("approval_reason", Text, nullable=True),
    Column("details", JSONB, nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The planned visit, from dispatch (0002).
    Column("appointment_start", DateTime(timezone=True), nullable=True),
    Column("appointment_end", DateTime(timezone=True), nullable=True),
    Column("eta", DateTime(timezone=True), nullable=True),
    Column("en_route_at", DateTime(timezone=True), nullable=True),
    # When dispatch made the decision the appointment columns show: an older one is ignored.
    Column("appointment_decided_at", DateTime(timezone=True), nullable=True),
    # The customer's rating of the visit (0002).
    Column("rating", SmallInteger, nullable=True),
    Column("rating_comment", Text, nullable=True),
    Column("rated_at", DateTime(timezone=True), nullable=True),
)
Index("ix_work_orders_logged_at", work_orders.c.logged_at)
