"""Alembic environment for dispatch."""

from alembic import context

from jobstream.db import run_alembic_env
from jobstream.dispatch.db.tables import metadata

run_alembic_env(context, metadata)
