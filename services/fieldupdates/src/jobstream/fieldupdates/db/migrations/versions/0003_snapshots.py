"""Each job's state at its latest version, kept with its events (snapshot plus tail).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

Expand only: a new table that a fieldupdates of the previous version never reads. Jobs
without a row fold their whole stream once, and get one with their next events.
"""

from alembic import op

from jobstream import migration_ops

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migration_ops.create_snapshots_table(op)


def downgrade() -> None:
    op.drop_table("snapshots")
