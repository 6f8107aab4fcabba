"""Initial dispatch schema: event store, consumer bookkeeping, technicians, jobs.

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
        "technicians",
        sa.Column("technician_id", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("skills", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("certifications", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("home_lat", sa.Double(), nullable=False),
        sa.Column("home_lon", sa.Double(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("work_order_id", sa.Text(), primary_key=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Text(), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("travel_minutes", sa.Integer(), nullable=True),
        sa.Column("reasons", postgresql.JSONB(), nullable=False),
        sa.Column("job_pack", postgresql.JSONB(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_jobs_technician_id", "jobs", ["technician_id"])


def downgrade() -> None:
    for table in ("jobs", "technicians", "idempotency_keys", "dead_letters"):
        op.drop_table(table)
    for table in ("processed_events", "consumer_offsets", "events"):
        op.drop_table(table)
