"""Alembic environment for intake."""

from alembic import context

from jobstream.db import run_alembic_env
from jobstream.intake.db.tables import metadata

run_alembic_env(context, metadata)
