"""When each job was first given a technician and a time.

Time to schedule, for the office and for checks; `decided_at` moves with every later
decision.

Filled from the schedule row where the job is scheduled now and has not been rescheduled
since would be a guess, so existing rows start empty; a rebuild of dispatch's projections
fills them exactly.

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
    op.add_column(
        "jobs", sa.Column("first_scheduled_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("jobs", "first_scheduled_at")
