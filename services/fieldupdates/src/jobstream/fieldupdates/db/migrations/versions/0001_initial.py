"""Initial fieldupdates schema: event store, consumer bookkeeping, assignments.

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
    migration_ops.create_idempotency_table(op)
    op.create_table(
        "assignments",
        sa.Column("work_order_id", sa.Text(), primary_key=True),
        sa.Column("technician_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("job_pack", postgresql.JSONB(), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_assignments_technician_id", "assignments", ["technician_id"])


def downgrade() -> None:
    for table in ("assignments", "idempotency_keys", "dead_letters"):
        op.drop_table(table)
    for table in ("processed_events", "consumer_offsets", "events"):
        op.drop_table(table)
