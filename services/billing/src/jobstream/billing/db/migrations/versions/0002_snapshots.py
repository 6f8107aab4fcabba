"""Snapshots: each work order's documents folded, and in each generation each job's history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06

Expand only: new tables that a billing of the previous version never reads. The write
side's ``snapshots`` holds BillingState rows; each projection generation that exists now
gets its own ``snapshots`` for JobHistory rows (generations made later get theirs from the
models, as every projection table). A stream without a row folds whole once, and gets one
with its next decision (db/snapshots.py).
"""

import sqlalchemy as sa
from alembic import op

from jobstream import migration_ops

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _generation_schemas() -> list[str]:
    """Schemas of the generations that exist and have no snapshots table yet."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT g.schema_name FROM projection_generations g "
            "JOIN information_schema.schemata s ON s.schema_name = g.schema_name "
            "WHERE NOT EXISTS (SELECT 1 FROM information_schema.tables t "
            "WHERE t.table_schema = g.schema_name AND t.table_name = 'snapshots') "
            "ORDER BY g.generation"
        )
    )
    return [row.schema_name for row in rows]


def upgrade() -> None:
    migration_ops.create_snapshots_table(op)
    for schema in _generation_schemas():
        migration_ops.create_snapshots_table(op, schema=schema)


def downgrade() -> None:
    # The generations' snapshots go with them (a cache: a full fold replaces each row).
    rows = op.get_bind().execute(sa.text("SELECT schema_name FROM projection_generations"))
    for row in rows.all():
        op.execute(sa.text(f'DROP TABLE IF EXISTS "{row.schema_name}".snapshots'))
    op.drop_table("snapshots")
