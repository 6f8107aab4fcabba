"""Initial fieldupdates schema: event store, consumer bookkeeping, jobs and query tables.

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

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    migration_ops.create_events_table(op)
    migration_ops.create_consumer_tables(op)
    op.create_table(
        "jobs",
        sa.Column("work_order_id", sa.Text(), primary_key=True),
        sa.Column("technician_id", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("job_pack", postgresql.JSONB(), nullable=True),
        sa.Column("site_id", sa.Text(), nullable=True),
        sa.Column("window_start", TS, nullable=True),
        sa.Column("window_end", TS, nullable=True),
        sa.Column("dispatched_at", TS, nullable=True),
        sa.Column("cancelled_at", TS, nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("correlation_id", sa.Text(), nullable=True),
        sa.Column("visit_started_version", sa.Integer(), nullable=False),
        sa.Column("stream_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_jobs_technician_id", "jobs", ["technician_id"])
    op.create_table(
        "job_technicians",
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Text(), nullable=False),
        sa.Column("assigned_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", "technician_id", name="pk_job_technicians"),
    )
    op.create_table(
        "device_actions",
        sa.Column("technician_id", sa.Text(), nullable=False),
        sa.Column("action_id", sa.Text(), nullable=False),
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("action_type", sa.Text(), nullable=False),
        sa.Column("payload_sha256", sa.Text(), nullable=False),
        sa.Column("device_time", TS, nullable=False),
        sa.Column("device_seq", sa.BigInteger(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("technician_id", "action_id", name="pk_device_actions"),
    )
    op.create_table(
        "attachments",
        sa.Column("attachment_id", sa.Text(), primary_key=True),
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("object_key", sa.Text(), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
    )
    op.create_index("ix_attachments_work_order_id", "attachments", ["work_order_id"])
    op.create_table(
        "parts_requests",
        sa.Column("request_id", sa.Text(), primary_key=True),
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Text(), nullable=False),
        sa.Column("parts", postgresql.JSONB(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("device_time", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_index("ix_parts_requests_work_order_id", "parts_requests", ["work_order_id"])
    op.create_table(
        "rejected_actions",
        sa.Column("event_id", sa.Text(), primary_key=True),
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Text(), nullable=False),
        sa.Column("action_id", sa.Text(), nullable=False),
        sa.Column("action_type", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("device_time", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_index("ix_rejected_actions_work_order_id", "rejected_actions", ["work_order_id"])
    op.create_table(
        "site_notes",
        sa.Column("note_id", sa.Text(), primary_key=True),
        sa.Column("site_id", sa.Text(), nullable=False),
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_by", sa.Text(), nullable=False),
        sa.Column("written_at", TS, nullable=False),
    )
    op.create_index("ix_site_notes_site_id", "site_notes", ["site_id"])
    op.create_table(
        "technician_locations",
        sa.Column("technician_id", sa.Text(), primary_key=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("device_time", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("stream_version", sa.Integer(), nullable=False),
        sa.Column("dropped", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "technician_locations",
        "site_notes",
        "rejected_actions",
        "parts_requests",
        "attachments",
        "device_actions",
        "job_technicians",
        "jobs",
        "dead_letters",
        "processed_events",
        "consumer_offsets",
        "events",
    ):
        op.drop_table(table)
