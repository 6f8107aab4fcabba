"""Alembic environment for fieldupdates."""

from alembic import context

from jobstream.db import run_alembic_env
from jobstream.fieldupdates.db.tables import metadata

run_alembic_env(context, metadata)
