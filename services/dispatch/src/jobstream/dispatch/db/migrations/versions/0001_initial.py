"""Initial dispatch schema: event store, bookkeeping, technicians, inputs and the schedule.

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

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    migration_ops.create_events_table(op)
    migration_ops.create_consumer_tables(op)
    migration_ops.create_idempotency_table(op)
    op.create_table(
        "technicians",
        sa.Column("technician_id", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("profile", postgresql.JSONB(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("registered_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "absences",
        sa.Column("absence_id", sa.Text(), primary_key=True),
        sa.Column("technician_id", sa.Text(), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_absences_technician_id", "absences", ["technician_id"])
    op.create_table(
        "technician_locations",
        sa.Column("technician_id", sa.Text(), primary_key=True),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("located_at", TZ, nullable=False),
    )
    op.create_table(
        "work_orders",
        sa.Column("work_order_id", sa.Text(), primary_key=True),
        sa.Column("details", postgresql.JSONB(), nullable=False),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("site_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("correlation_id", sa.Text(), nullable=True),
        sa.Column("released_at", TZ, nullable=False),
        sa.Column("field_status", sa.Text(), nullable=True),
        sa.Column("field_technician_id", sa.Text(), nullable=True),
        sa.Column("arrived_at", TZ, nullable=True),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("ended_at", TZ, nullable=True),
    )
    op.create_index("ix_work_orders_site_id", "work_orders", ["site_id"])
    op.create_table(
        "jobs",
        sa.Column("work_order_id", sa.Text(), primary_key=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Text(), nullable=True),
        sa.Column("window_start", TZ, nullable=True),
        sa.Column("window_end", TZ, nullable=True),
        sa.Column("eta", TZ, nullable=True),
        sa.Column("travel_minutes", sa.Integer(), nullable=True),
        sa.Column("travel_km", sa.Double(), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("force_reason", sa.Text(), nullable=True),
        sa.Column("reasons", postgresql.JSONB(), nullable=False),
        sa.Column("considered", postgresql.JSONB(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("failure_detail", sa.Text(), nullable=True),
        sa.Column("decided_at", TZ, nullable=False),
        sa.Column("dispatched_to", sa.Text(), nullable=True),
        sa.Column("dispatched_at", TZ, nullable=True),
    )
    op.create_index("ix_jobs_technician_window", "jobs", ["technician_id", "window_start"])
    op.create_table(
        "site_notes",
        sa.Column("note_id", sa.Text(), primary_key=True),
        sa.Column("site_id", sa.Text(), nullable=False),
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_by", sa.Text(), nullable=False),
        sa.Column("written_at", TZ, nullable=False),
    )
    op.create_index("ix_site_notes_site_id", "site_notes", ["site_id"])
    op.create_table(
        "site_visits",
        sa.Column("event_id", sa.Text(), primary_key=True),
        sa.Column("site_id", sa.Text(), nullable=False),
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("job_type", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Text(), nullable=True),
        sa.Column("completed_at", TZ, nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
    )
    op.create_index("ix_site_visits_site_id", "site_visits", ["site_id"])


def downgrade() -> None:
    for table in (
        "site_visits",
        "site_notes",
        "jobs",
        "work_orders",
        "technician_locations",
        "absences",
        "technicians",
        "idempotency_keys",
        "dead_letters",
    ):
        op.drop_table(table)
    for table in ("processed_events", "consumer_offsets", "events"):
        op.drop_table(table)
