"""What every service process shares: settings, the app factory, workers and the CLI.

A service declares a ``ServiceDefinition`` (its tables, migrations, routes and consumers);
``run_service_cli`` gives it the subcommands ``migrate``, ``api``, ``consume``, ``relay``
and ``serve`` (all three roles in one process). Every role serves /healthz, /readyz and
/metrics so that each can be deployed and probed on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import structlog
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from jobstream.api.errors import install_error_handlers
from jobstream.auth import TokenVerifier
from jobstream.contracts.topics import namespaced
from jobstream.db import async_engine, libpq_dsn, upgrade_to_head
from jobstream.eventstore.relay import OutboxRelay
from jobstream.eventstore.store import EventStore
from jobstream.messaging.consumer import ConsumerRunner, ConsumerSpec, ConsumerTables
from jobstream.observability.http import ReadinessCheck, health_router, install_request_context
from jobstream.observability.logging import configure_logging
from jobstream.settings import AuthSettings, DatabaseSettings, KafkaSettings

log = structlog.get_logger(__name__)


class Role(StrEnum):
    """What a process does; ``serve`` runs all of them."""

    API = "api"
    CONSUME = "consume"
    RELAY = "relay"


class ServiceSettings(BaseSettings):
    """Process-wide settings; the service's own prefix overrides the plain variables."""

    model_config = SettingsConfigDict(extra="ignore")

    environment: str = Field(
        default="development",
        validation_alias="JOBSTREAM_ENV",
        description="development (console logs) or production (JSON logs).",
    )
    log_level: str = Field(
        default="INFO", validation_alias="JOBSTREAM_LOG_LEVEL", description="Root log level."
    )
    namespace: str = Field(
        default="",
        validation_alias="JOBSTREAM_NAMESPACE",
        pattern=r"^[a-z0-9-]*$",
        description="Prefix of topics and consumer groups, so deployments can share a cluster.",
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings, description="Kafka client.")
    database: DatabaseSettings = Field(
        default_factory=DatabaseSettings, description="This service's database."
    )
    auth: AuthSettings = Field(default_factory=AuthSettings, description="Bearer tokens.")


def get_settings(service: str) -> ServiceSettings:
    """Build settings at call time (never at import), honouring ``<SERVICE>_DATABASE_URL``."""
    settings = ServiceSettings()
    override = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if override:
        settings.database = DatabaseSettings(DATABASE_URL=override)
    return settings


class Worker(Protocol):
    """A background task of the consume role that is more than one consumer runner.

    For example billing's worker, which follows projection generations.
    """

    name: str

    @property
    def ready(self) -> bool:
        """Whether /readyz may report this worker ready."""
        ...

    async def run(self) -> None:
        """Work until stopped."""

    def stop(self) -> None:
        """Finish what is in hand and return from run()."""


@dataclass
class Runtime:
    """The live parts of one service process."""

    name: str
    settings: ServiceSettings
    engine: AsyncEngine
    store: EventStore | None
    relay: OutboxRelay | None = None
    runners: list[ConsumerRunner] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceDefinition:
    """How a service is assembled; each service's ``app.py`` builds one."""

    name: str
    metadata: MetaData
    migrations: str
    events_table: Table | None
    consumer_tables: ConsumerTables | None
    routers: Callable[[], list[APIRouter]]
    consumers: Callable[[Runtime], list[ConsumerSpec]] = lambda _rt: []
    workers: Callable[[Runtime], list[Worker]] = lambda _rt: []
    title: str = ""
    description: str = ""
    # Anything else the app needs (state, middleware, static files, exception handlers),
    # applied last; the web front door uses it.
    configure: Callable[[FastAPI, Runtime], None] | None = None

    @property
    def source(self) -> str:
        """``ce_source`` of events this service publishes."""
        return f"jobstream/{self.name}"


def in_namespace(spec: ConsumerSpec, namespace: str) -> ConsumerSpec:
    """The consumer's topics and group inside ``namespace``."""
    if not namespace:
        return spec
    return dataclasses.replace(
        spec,
        group_id=namespaced(spec.group_id, namespace),
        topics=tuple(namespaced(t, namespace) for t in spec.topics),
    )


def _readiness_checks(runtime: Runtime) -> dict[str, ReadinessCheck]:
    async def database() -> tuple[bool, str]:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True, "ok"

    checks: dict[str, ReadinessCheck] = {"database": database}
    if runtime.relay is not None:
        relay = runtime.relay

        async def relay_check() -> tuple[bool, str]:
            return relay.running, "publishing" if relay.running else "not connected"

        checks["relay"] = relay_check
    for runner in runtime.runners:

        async def runner_check(r: ConsumerRunner = runner) -> tuple[bool, str]:
            return r.ready, f"{len(r.stats.assigned)} partitions" if r.ready else "joining"

        checks[f"consumer:{runner.spec.group_id}"] = runner_check
    for worker in runtime.workers:

        async def worker_check(w: Worker = worker) -> tuple[bool, str]:
            return w.ready, "running" if w.ready else "starting"

        checks[f"worker:{worker.name}"] = worker_check
    return checks


def create_app(
    definition: ServiceDefinition,
    roles: frozenset[Role] = frozenset(Role),
    settings: ServiceSettings | None = None,
) -> FastAPI:
    """The FastAPI application of one service process, with its workers in the lifespan."""
    settings = settings or get_settings(definition.name)
    configure_logging(
        definition.name,
        json_logs=settings.environment == "production",
        level=settings.log_level,
    )
    runtime = _runtime(definition, roles, settings)
    app = FastAPI(
        title=definition.title or f"Jobstream {definition.name}",
        description=definition.description,
        version="0.1.0",
        lifespan=_lifespan(runtime, roles),
    )
    app.state.runtime = runtime
    app.state.auth_settings = settings.auth
    app.state.token_verifier = TokenVerifier(settings.auth)
    install_request_context(app, definition.name)
    install_error_handlers(app)
    app.include_router(health_router(_readiness_checks(runtime), service=definition.name))

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> JSONResponse:
        """Every event Jobstream publishes, for subscribers (like /openapi.json, public)."""
        from jobstream.contracts.asyncapi import build

        return JSONResponse(build())

    if Role.API in roles:
        for router in definition.routers():
            app.include_router(router)
    if definition.configure is not None:
        definition.configure(app, runtime)
    return app


def _runtime(
    definition: ServiceDefinition, roles: frozenset[Role], settings: ServiceSettings
) -> Runtime:
    """The process's engine and store, and the relay, consumers and workers its roles run."""
    db_url = settings.database.url.get_secret_value()
    engine = async_engine(db_url, pool_size=settings.database.pool_size)
    store = EventStore(definition.events_table) if definition.events_table is not None else None
    runtime = Runtime(definition.name, settings, engine, store)
    if Role.RELAY in roles and definition.events_table is not None:
        runtime.relay = OutboxRelay(
            engine,
            definition.events_table,
            source=definition.source,
            bootstrap_servers=settings.kafka.bootstrap_servers,
            listen_dsn=libpq_dsn(db_url),
            namespace=settings.namespace,
        )
    if Role.CONSUME in roles and definition.consumer_tables is not None:
        runtime.runners = [
            ConsumerRunner(
                in_namespace(spec, settings.namespace),
                engine,
                definition.consumer_tables,
                bootstrap_servers=settings.kafka.bootstrap_servers,
            )
            for spec in definition.consumers(runtime)
        ]
    if Role.CONSUME in roles:
        runtime.workers = definition.workers(runtime)
    return runtime


def _lifespan(
    runtime: Runtime, roles: frozenset[Role]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start the relay, consumers and workers with the app; stop them and the pool after."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        running: list[OutboxRelay | ConsumerRunner | Worker] = []
        if runtime.relay is not None:
            running.append(runtime.relay)
        running += [*runtime.runners, *runtime.workers]
        tasks = [asyncio.create_task(part.run(), name=_name(part)) for part in running]
        log.info("service_started", roles=sorted(r.value for r in roles))
        try:
            yield
        finally:
            for part in running:
                part.stop()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError, Exception):
                    await task
            await runtime.engine.dispose()
            log.info("service_stopped")

    return lifespan


def _name(part: OutboxRelay | ConsumerRunner | Worker) -> str:
    """The task's name: the relay, a consumer's group id, or a worker's name."""
    if isinstance(part, OutboxRelay):
        return "relay"
    if isinstance(part, ConsumerRunner):
        return part.spec.group_id
    return part.name


async def get_runtime(request: Request) -> Runtime:
    """FastAPI dependency: this process's runtime.

    Async: a plain ``def`` dependency would cost a thread-pool hop on every request.
    """
    runtime: Runtime = request.app.state.runtime
    return runtime


def _consumer_specs(definition: ServiceDefinition, settings: ServiceSettings) -> list[ConsumerSpec]:
    """The service's consumers as deployed (in its namespace), for operator commands."""
    db_url = settings.database.url.get_secret_value()
    engine = async_engine(db_url)
    store = EventStore(definition.events_table) if definition.events_table is not None else None
    runtime = Runtime(definition.name, settings, engine, store)
    return [in_namespace(spec, settings.namespace) for spec in definition.consumers(runtime)]


async def _dead_letters_command(
    definition: ServiceDefinition, settings: ServiceSettings, redrive_ids: list[int] | None
) -> int:
    """List open dead letters, or re-drive them (all, or the given ids)."""
    from jobstream.messaging.redrive import list_dead_letters, redrive

    if definition.consumer_tables is None:
        print(f"{definition.name} has no consumers")
        return 0
    tables = definition.consumer_tables
    engine = async_engine(settings.database.url.get_secret_value())
    try:
        for spec in _consumer_specs(definition, settings):
            if redrive_ids is None:
                for row in await list_dead_letters(engine, tables, spec.group_id):
                    print(
                        f"{row.id}\t{spec.group_id}\t{row.topic}:{row.partition}@{row.offset}"
                        f"\t{row.event_type or '-'}\t{row.event_id or '-'}\t{row.error}"
                    )
                continue
            report = await redrive(engine, spec, tables, redrive_ids or None)
            print(
                f"{spec.group_id}: {report.attempted} re-driven: {report.applied} applied, "
                f"{report.duplicates} already applied, {report.still_failing} still failing"
            )
    finally:
        await engine.dispose()
    return 0


def run_service_cli(definition: ServiceDefinition, argv: list[str] | None = None) -> int:
    """``jobstream-<service> migrate|api|consume|relay|serve|dead-letters|redrive``."""
    parser = argparse.ArgumentParser(prog=f"jobstream-{definition.name}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply this service's database migrations")
    sub.add_parser("dead-letters", help="list open dead letters of this service's consumers")
    redrive_parser = sub.add_parser(
        "redrive", help="re-apply open dead letters after a fix (all, or --id N ...)"
    )
    redrive_parser.add_argument("--id", type=int, action="append", dest="ids", default=[])
    for name, help_text in (
        ("serve", "HTTP API, consumers and outbox relay in one process"),
        ("api", "HTTP API only"),
        ("consume", "consumers only (with health endpoints)"),
        ("relay", "outbox relay only (with health endpoints)"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    settings = get_settings(definition.name)
    if args.command == "migrate":
        configure_logging(definition.name, json_logs=settings.environment == "production")
        upgrade_to_head(definition.migrations, settings.database.url.get_secret_value())
        log.info("migrated", service=definition.name)
        return 0
    if args.command in ("dead-letters", "redrive"):
        configure_logging(definition.name, json_logs=settings.environment == "production")
        ids = args.ids if args.command == "redrive" else None
        return asyncio.run(_dead_letters_command(definition, settings, ids))
    roles = frozenset(Role) if args.command == "serve" else frozenset({Role(args.command)})
    app = create_app(definition, roles, settings)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    return 0


def main_for(definition_factory: Callable[[], ServiceDefinition]) -> Callable[[], None]:
    """A console-script ``main`` for a service."""

    def main() -> None:
        sys.exit(run_service_cli(definition_factory()))

    return main
