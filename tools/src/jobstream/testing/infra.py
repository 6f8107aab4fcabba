"""Find a real Kafka broker and PostgreSQL server for tests.

In order: what the environment names (``KAFKA_BOOTSTRAP_SERVERS`` and
``JOBSTREAM_PG_ADMIN_URL`` or ``DATABASE_URL``); testcontainers when a Docker engine
answers; otherwise the local no-Docker stack (``deploy/local/stack.sh infra-up``).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from jobstream.settings import normalise_database_url


@dataclass(frozen=True)
class Infra:
    """Where the test broker and database server are."""

    bootstrap_servers: str
    pg_admin_url: str  # a URL to a maintenance database with CREATEDB rights
    origin: str

    def database_url(self, name: str) -> str:
        """URL of database ``name`` on the same server."""
        url = make_url(normalise_database_url(self.pg_admin_url)).set(database=name)
        return url.render_as_string(hide_password=False)


def repo_root(start: Path | None = None) -> Path:
    """The checkout this test run belongs to (holds deploy/local/stack.sh)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "deploy" / "local" / "stack.sh").exists():
            return candidate
    raise RuntimeError("cannot find deploy/local/stack.sh above the working directory")


def _docker_engine_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@contextmanager
def _from_testcontainers() -> Iterator[Infra]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka,
        PostgresContainer("postgres:17", driver="psycopg") as pg,
    ):
        yield Infra(kafka.get_bootstrap_server(), pg.get_connection_url(), "testcontainers")


def local_stack_run_dir() -> Path:
    """Where deploy/local/stack.sh keeps the running stack's state (stack.env, jwt-secret)."""
    home = Path(
        os.environ.get("JOBSTREAM_HOME")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jobstream"
    )
    return home / "run"


def _from_local_stack() -> Infra:
    root = repo_root()
    subprocess.run(["bash", str(root / "deploy/local/stack.sh"), "infra-up"], check=True)
    values: dict[str, str] = {}
    for line in (local_stack_run_dir() / "stack.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return Infra(values["KAFKA_BOOTSTRAP_SERVERS"], values["JOBSTREAM_PG_ADMIN_URL"], "local")


@contextmanager
def find_infra() -> Iterator[Infra]:
    """The broker and database server for this test session."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    admin = os.environ.get("JOBSTREAM_PG_ADMIN_URL") or os.environ.get("DATABASE_URL")
    if bootstrap and admin:
        yield Infra(bootstrap, admin, "environment")
    elif _docker_engine_answers():
        with _from_testcontainers() as infra:
            yield infra
    else:
        yield _from_local_stack()


def create_database(infra: Infra, prefix: str = "test") -> str:
    """A new empty database; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(normalise_database_url(infra.pg_admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return infra.database_url(name)


def drop_database(infra: Infra, url: str) -> None:
    """Drop a database made by create_database (forcing out leftover connections)."""
    name = make_url(url).database
    engine = create_engine(normalise_database_url(infra.pg_admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
