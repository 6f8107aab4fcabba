"""Alembic environment for billing."""

from alembic import context

from jobstream.billing.db.tables import metadata
from jobstream.db import run_alembic_env

run_alembic_env(context, metadata)
