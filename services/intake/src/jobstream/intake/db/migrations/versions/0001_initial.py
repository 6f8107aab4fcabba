"""Initial intake schema: event store, consumer bookkeeping, idempotency, work orders.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from jobstream import migration_ops

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    migration_ops.create_events_table(op)
    migration_ops.create_consumer_tables(op)
    migration_ops.create_idempotency_table(op)
    op.create_table(
        "work_orders",
        sa.Column("work_order_id", sa.Text(), primary_key=True),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("site_id", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("job_type", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolve_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_work_orders_customer_id", "work_orders", ["customer_id"])


def downgrade() -> None:
    for table in ("work_orders", "idempotency_keys", "dead_letters", "processed_events"):
        op.drop_table(table)
    op.drop_table("consumer_offsets")
    op.drop_table("events")
