"""Alembic environment for reporting."""

from alembic import context

from jobstream.db import run_alembic_env
from jobstream.reporting.db.tables import metadata

run_alembic_env(context, metadata)
