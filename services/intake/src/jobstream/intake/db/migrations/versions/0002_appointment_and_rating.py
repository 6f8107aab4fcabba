"""The appointment (window, ETA, en route) and the customer's rating in the work order list.

Expand only: nullable columns, filled from dispatch's decisions, field travel and VisitRated.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = (
    ("appointment_start", sa.DateTime(timezone=True)),
    ("appointment_end", sa.DateTime(timezone=True)),
    ("eta", sa.DateTime(timezone=True)),
    ("en_route_at", sa.DateTime(timezone=True)),
    ("appointment_decided_at", sa.DateTime(timezone=True)),
    ("rating", sa.SmallInteger()),
    ("rating_comment", sa.Text()),
    ("rated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column("work_orders", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column("work_orders", name)
