"""The customer's rating of a job's visit in its measures (customer satisfaction).

Expand-only: nullable columns, NULL for every job until refolded. On a database whose log
already holds VisitRated events, run `jobstream-reporting rebuild jobs` once after migrating
to fill them; jobs the projector refolds afterwards get theirs anyway.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_measures", sa.Column("rating_score", sa.Integer(), nullable=True))
    op.add_column("job_measures", sa.Column("rated_at", sa.Double(), nullable=True))
    op.add_column("job_measures", sa.Column("rating_by_technician", sa.Text(), nullable=True))


def downgrade() -> None:
    for column in ("rating_by_technician", "rated_at", "rating_score"):
        op.drop_column("job_measures", column)
