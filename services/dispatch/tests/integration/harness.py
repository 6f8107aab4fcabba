"""A dispatch service under test, and builders for the events other services would send.

Its consumer and relay run on real Kafka and PostgreSQL, its API in process.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from jobstream.auth import Role as AuthRole
from jobstream.auth import mint_token
from jobstream.contracts.common import (
    Contact,
    GeoPoint,
    Priority,
    SiteAddress,
    TimeWindow,
    WorkOrderDetails,
)
from jobstream.contracts.intake import WorkOrderReleased
from jobstream.contracts.topics import FIELD, INTAKE, namespaced
from jobstream.db import async_engine, libpq_dsn
from jobstream.dispatch.app import consumers, definition
from jobstream.dispatch.db import queries
from jobstream.dispatch.db.tables import consumer_tables, events
from jobstream.eventstore.relay import OutboxRelay
from jobstream.messaging.consumer import ConsumerRunner
from jobstream.messaging.envelope import Envelope
from jobstream.service import Role, ServiceSettings, create_app, in_namespace
from jobstream.settings import AuthSettings, DatabaseSettings
from jobstream.testing.contract_suite import publish
from jobstream.testing.waiting import wait_until

MANCHESTER = GeoPoint(lat=53.4808, lon=-2.2426)
SALFORD = GeoPoint(lat=53.4839, lon=-2.2707)
LIVERPOOL = GeoPoint(lat=53.4084, lon=-2.9916)
LEEDS = GeoPoint(lat=53.8008, lon=-1.5491)


def shifts(start: str = "00:00", end: str = "23:59", days: range = range(7)) -> list[dict]:
    return [{"weekday": d, "start": start, "end": end} for d in days]


def technician(tid: str, at: GeoPoint, *, skills=("gas_boiler",), certs=None, **extra) -> dict:
    certs = [{"name": "gas_safe", "expires_on": "2030-01-01"}] if certs is None else certs
    return {
        "technician_id": tid,
        "name": tid.title(),
        "skills": [{"name": s, "level": 3} for s in skills],
        "certifications": certs,
        "home_base": {"lat": at.lat, "lon": at.lon},
        "time_zone": "UTC",
        "shifts": shifts(),
        **extra,
    }


@dataclass(frozen=True)
class Asked:
    """What a released test job asks for; ``respond`` and ``resolve`` count from release."""

    place: GeoPoint = MANCHESTER
    priority: Priority = Priority.P3
    duration: int = 60
    skills: tuple[str, ...] = ("gas_boiler",)
    certs: tuple[str, ...] = ("gas_safe",)
    respond: timedelta = timedelta(hours=24)
    resolve: timedelta = timedelta(days=3)
    window: tuple[datetime, datetime] | None = None
    site_id: str | None = None


def released(at: datetime, **asked: Any) -> WorkOrderReleased:
    a = Asked(**asked)
    wo = f"wo-{uuid.uuid4().hex[:10]}"
    details = WorkOrderDetails(
        customer_id="cust-1",
        site=SiteAddress(
            site_id=a.site_id or f"site-{wo}", address="1 Deansgate, Manchester", location=a.place
        ),
        contact=Contact(name="Ms Customer", phone="0161 000 0000"),
        job_type="boiler_service",
        description="Boiler fault",
        priority=a.priority,
        required_skills=a.skills,
        required_certifications=a.certs,
        estimated_duration_minutes=a.duration,
        access_instructions="Key with concierge",
        time_window=TimeWindow(start=a.window[0], end=a.window[1]) if a.window else None,
        respond_by=at + a.respond,
        resolve_by=at + a.resolve,
    )
    return WorkOrderReleased(
        work_order_id=wo, details=details, released_by="office", released_at=at
    )


def envelope(event: Any) -> Envelope:
    return Envelope.new(event, source="jobstream/test")


@dataclass
class Dispatch:
    """One dispatch service on its own database and namespaced topics."""

    url: str
    namespace: str
    bootstrap: str
    client: httpx.AsyncClient
    tasks: list[asyncio.Task]
    runner: ConsumerRunner
    relay: OutboxRelay

    @property
    def office(self) -> dict[str, str]:
        token = mint_token(AuthSettings(), subject="office-ann", role=AuthRole.DISPATCHER)
        return {"Authorization": f"Bearer {token}"}

    def topic(self, name: str) -> str:
        return namespaced(name, self.namespace)

    async def send(self, *events_: Any) -> list[Envelope]:
        """Publish events where their owners would, and wait until the scheduler took them."""
        wrapped = [envelope(e) for e in events_]
        before = self.runner.stats.applied + self.runner.stats.duplicates
        for env in wrapped:
            await publish(self.bootstrap, self.topic(env.data.topic), [env])
        await wait_until(
            lambda: (
                self.runner.stats.applied + self.runner.stats.duplicates >= before + len(wrapped)
            ),
            timeout=60,
            message="the scheduler applied the events",
        )
        return wrapped

    async def register(self, body: dict) -> None:
        r = await self.client.post("/technicians", json=body, headers=self.office)
        assert r.status_code == 201, r.text

    async def job(self, work_order_id: str) -> dict:
        r = await self.client.get(f"/jobs/{work_order_id}", headers=self.office)
        assert r.status_code == 200, r.text
        return r.json()

    async def decisions(self, work_order_id: str) -> list[dict]:
        """Dispatch's events about a work order, oldest first."""
        engine = self.client._transport.app.state.runtime.engine  # type: ignore[attr-defined]
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(
                    events.c.event_type,
                    events.c.data,
                    events.c.causation_id,
                    events.c.event_id,
                    events.c.occurred_at,
                )
                .where(events.c.stream_id == work_order_id)
                .order_by(events.c.position)
            )
            return [dict(r._mapping) for r in rows]

    async def rows(self) -> list[dict]:
        engine = self.client._transport.app.state.runtime.engine  # type: ignore[attr-defined]
        async with engine.connect() as conn:
            return await queries.job_rows(conn)


async def start_dispatch(infra, database_factory, namespace_factory) -> Dispatch:
    url = database_factory("jobstream.dispatch.db:migrations")
    namespace = await namespace_factory("dsp", partitions=1)
    settings = ServiceSettings(
        database=DatabaseSettings(DATABASE_URL=url), JOBSTREAM_NAMESPACE=namespace
    )
    app = create_app(definition(), frozenset({Role.API}), settings)
    engine = app.state.runtime.engine
    runner = ConsumerRunner(
        in_namespace(consumers(None)[0], namespace),
        engine,
        consumer_tables,
        bootstrap_servers=infra.bootstrap_servers,
    )
    relay = OutboxRelay(
        async_engine(url),
        events,
        source="jobstream/dispatch",
        bootstrap_servers=infra.bootstrap_servers,
        listen_dsn=libpq_dsn(url),
        namespace=namespace,
    )
    tasks = [asyncio.create_task(runner.run()), asyncio.create_task(relay.run())]
    await wait_until(lambda: runner.ready, timeout=60, message="scheduler joined its group")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dispatch")
    return Dispatch(url, namespace, infra.bootstrap_servers, client, tasks, runner, relay)


async def stop_dispatch(d: Dispatch) -> None:
    d.runner.stop()
    d.relay.stop()
    for t in d.tasks:
        t.cancel()
    for t in d.tasks:
        with suppress(asyncio.CancelledError, Exception):
            await t
    await d.client.aclose()
    await d.client._transport.app.state.runtime.engine.dispose()  # type: ignore[attr-defined]


__all__ = ["FIELD", "INTAKE", "time"]
