"""Alembic environment for web."""

from alembic import context

from jobstream.db import run_alembic_env
from jobstream.web.db.tables import metadata

run_alembic_env(context, metadata)
