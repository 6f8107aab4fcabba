"""Per-job KPI measures, so a KPI over a period is an SQL aggregate (docs/adr/0053).

Created empty: on a database that already holds jobs, run `jobstream-reporting rebuild jobs`
once after migrating to fill them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_measures",
        sa.Column("work_order_id", sa.Text(), primary_key=True),
        sa.Column("logged_at", sa.Double(), nullable=True),
        sa.Column("by_technician", sa.Text(), nullable=False),
        sa.Column("by_customer", sa.Text(), nullable=False),
        sa.Column("by_job_type", sa.Text(), nullable=False),
        sa.Column("by_priority", sa.Text(), nullable=False),
        sa.Column("site_id", sa.Text(), nullable=True),
        sa.Column("asset_id", sa.Text(), nullable=True),
        sa.Column("follow_up_of", sa.Text(), nullable=True),
        sa.Column("is_planned", sa.Boolean(), nullable=False),
        sa.Column("scheduled_at", sa.Double(), nullable=True),
        sa.Column("responded_at", sa.Double(), nullable=True),
        sa.Column("completed_at", sa.Double(), nullable=True),
        sa.Column("completed_by", sa.Text(), nullable=True),
        sa.Column("invoiced_at", sa.Double(), nullable=True),
        sa.Column("repeat_visit", sa.Boolean(), nullable=False),
        sa.Column("technician_flagged", sa.Boolean(), nullable=False),
        sa.Column("reopened_at", sa.Double(), nullable=True),
        sa.Column("withdrawn_at", sa.Double(), nullable=True),
        sa.Column("respond_due", sa.Double(), nullable=True),
        sa.Column("respond_due_if_met", sa.Double(), nullable=True),
        sa.Column("resolve_due", sa.Double(), nullable=True),
        sa.Column("resolve_due_if_met", sa.Double(), nullable=True),
    )
    for column in ("completed_at", "scheduled_at", "responded_at", "invoiced_at"):
        op.create_index(f"ix_job_measures_{column}", "job_measures", [column])
    op.create_index("ix_job_measures_site_logged", "job_measures", ["site_id", "logged_at"])
    op.create_index("ix_job_measures_follow_up_of", "job_measures", ["follow_up_of", "logged_at"])
    op.create_table(
        "job_parts",
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("entry_id", sa.Text(), nullable=False),
        sa.Column("used_at", sa.Double(), nullable=True),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", "entry_id", name="pk_job_parts"),
    )
    op.create_index("ix_job_parts_used_at", "job_parts", ["used_at"])
    op.create_table(
        "job_labour",
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("at", sa.Double(), nullable=True),
        sa.Column("technician_id", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", "n", name="pk_job_labour"),
    )
    op.create_index("ix_job_labour_at", "job_labour", ["at"])
    op.create_table(
        "job_money",
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.Double(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("by_technician", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", "n", name="pk_job_money"),
    )
    op.create_index("ix_job_money_issued_at", "job_money", ["issued_at"])
    op.create_table(
        "job_open_spans",
        sa.Column("work_order_id", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.Double(), nullable=False),
        sa.Column("closed_at", sa.Double(), nullable=True),
        sa.Column("logged_at", sa.Double(), nullable=False),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", "opened_at", name="pk_job_open_spans"),
    )
    op.create_index("ix_job_open_spans_opened_at", "job_open_spans", ["opened_at"])


def downgrade() -> None:
    for table in ("job_open_spans", "job_money", "job_labour", "job_parts", "job_measures"):
        op.drop_table(table)
