"""Each job's facts as last folded and the fold's position, so new events fold onto them.

Expand-only: a new table, empty at first. A job without a row is refolded from the log on
its next event (as every job was before), which writes its row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_snapshots",
        sa.Column("work_order_id", sa.Text(), primary_key=True),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("position", postgresql.JSONB(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("job_snapshots")
