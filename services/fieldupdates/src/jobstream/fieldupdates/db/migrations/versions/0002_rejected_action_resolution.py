"""What the office made of a kept device action (applied or discarded, why, by whom).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Expand only: nullable columns, so a fieldupdates of the previous version keeps working.
    op.add_column("rejected_actions", sa.Column("resolution", sa.Text(), nullable=True))
    op.add_column("rejected_actions", sa.Column("resolution_reason", sa.Text(), nullable=True))
    op.add_column("rejected_actions", sa.Column("resolved_by", sa.Text(), nullable=True))
    op.add_column(
        "rejected_actions", sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    for column in ("resolved_at", "resolved_by", "resolution_reason", "resolution"):
        op.drop_column("rejected_actions", column)
