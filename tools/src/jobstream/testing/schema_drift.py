"""The migrated schema must match the SQLAlchemy models (no drift either way)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from jobstream.settings import normalise_database_url


def schema_differences(url: str, metadata: MetaData) -> list[Any]:
    """Alembic's autogenerate diff between a migrated database and ``metadata``."""
    engine = create_engine(normalise_database_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()
