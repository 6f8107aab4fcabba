"""Initial billing schema: event store, consumer bookkeeping, invoices, number series.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from jobstream import migration_ops

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    migration_ops.create_events_table(op)
    migration_ops.create_consumer_tables(op)
    op.create_table(
        "invoice_series",
        sa.Column("series", sa.Text(), primary_key=True),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "invoices",
        sa.Column("invoice_id", sa.Text(), primary_key=True),
        sa.Column("invoice_number", sa.Text(), nullable=False, unique=True),
        sa.Column("work_order_id", sa.Text(), nullable=False, unique=True),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("net_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("gross_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
    )
    op.create_index("ix_invoices_customer_id", "invoices", ["customer_id"])


def downgrade() -> None:
    for table in ("invoices", "invoice_series", "dead_letters", "processed_events"):
        op.drop_table(table)
    op.drop_table("consumer_offsets")
    op.drop_table("events")
