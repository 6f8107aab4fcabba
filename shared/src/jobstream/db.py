"""Database plumbing shared by services: the async engine and Alembic migrations."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, pool
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from jobstream.settings import normalise_database_url


def async_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """One async engine per process (psycopg 3)."""
    return create_async_engine(
        normalise_database_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )


def libpq_dsn(url: str) -> str:
    """The same database as a plain libpq DSN (for psycopg's LISTEN connection)."""
    parsed: URL = make_url(normalise_database_url(url))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def alembic_config(script_location: str, url: str) -> Config:
    """An Alembic config for a service's packaged migrations ("package:dir")."""
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.set_main_option("sqlalchemy.url", normalise_database_url(url).replace("%", "%%"))
    return cfg


def upgrade_to_head(script_location: str, url: str) -> None:
    """Apply every migration of a service."""
    command.upgrade(alembic_config(script_location, url), "head")


def run_alembic_env(context: Any, target_metadata: MetaData) -> None:
    """Body of each service's migrations/env.py (online mode, synchronous psycopg)."""
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
