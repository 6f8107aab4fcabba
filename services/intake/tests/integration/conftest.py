"""A real intake (API, relay and consumer in one app) on real PostgreSQL and Kafka, per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from jobstream.auth import Role, mint_token
from jobstream.contracts import topics
from jobstream.contracts.base import Event
from jobstream.contracts.topics import namespaced
from jobstream.db import async_engine
from jobstream.intake.app import definition
from jobstream.messaging.envelope import Envelope, from_kafka
from jobstream.service import Role as ServiceRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings, DatabaseSettings, KafkaSettings
from jobstream.testing.contract_suite import publish
from jobstream.testing.waiting import wait_until

pytestmark = pytest.mark.integration

MIGRATIONS = "jobstream.intake.db:migrations"

CUSTOMER = {
    "customer_id": "cust-dd",
    "name": "Deansgate Dental",
    "billing_address": "14 Deansgate, Manchester M3 2BW",
    "billing_email": "accounts@dd.example",
}
SITE = {
    "site_id": "site-dd",
    "customer_id": "cust-dd",
    "name": "Surgery",
    "address": "14 Deansgate, Manchester M3 2BW",
    "location": {"lat": 53.4794, "lon": -2.2479},
    "time_zone": "Europe/London",
    "access_instructions": "Staff entrance on Police St",
}
ASSET = {
    "asset_id": "asset-dd-boiler",
    "site_id": "site-dd",
    "asset_type": "gas_boiler",
    "make": "Worcester Bosch",
    "model": "Greenstar 4000",
}
CONTACT = {
    "contact_id": "ct-priya",
    "customer_id": "cust-dd",
    "site_id": "site-dd",
    "name": "Priya Shah",
    "email": "Priya@DD.example",
}
OTHER_CUSTOMER = {
    **CUSTOMER,
    "customer_id": "cust-other",
    "name": "Other Ltd",
    "billing_email": None,
}
OTHER_SITE = {**SITE, "site_id": "site-other", "customer_id": "cust-other"}


@dataclass
class Intake:
    """An intake app under test, with tokens for each role and Kafka helpers."""

    client: httpx.AsyncClient
    namespace: str
    bootstrap: str
    database_url: str
    objects_root: Path
    auth: AuthSettings

    def headers(
        self, role: Role = Role.DISPATCHER, subject: str = "office-anna", **scope: str
    ) -> dict[str, str]:
        token = mint_token(self.auth, subject=subject, role=role, **scope)
        return {"Authorization": f"Bearer {token}"}

    @property
    def office(self) -> dict[str, str]:
        return self.headers()

    @property
    def admin(self) -> dict[str, str]:
        return self.headers(Role.ADMIN, "manager-mo")

    def customer(self, customer_id: str = "cust-dd") -> dict[str, str]:
        return self.headers(Role.CUSTOMER, f"portal-{customer_id}", customer_id=customer_id)

    async def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        return await self.client.post(path, json=body, headers=headers or self.office, **kw)

    async def get(
        self, path: str, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        return await self.client.get(path, headers=headers or self.office, **kw)

    async def seed(self) -> None:
        """Two customers, each with a site; the first with an asset and a contact."""
        for path, body in (
            ("/customers", CUSTOMER),
            ("/customers", OTHER_CUSTOMER),
            ("/sites", SITE),
            ("/sites", OTHER_SITE),
            ("/assets", ASSET),
            ("/contacts", CONTACT),
        ):
            response = await self.post(path, body)
            assert response.status_code == 201, response.text

    async def log(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "customer_id": "cust-dd",
            "site_id": "site-dd",
            "description": "Boiler locked out, no heating; fault code F28",
            "priority": "P2",
            "job_type": "boiler_repair",
        } | overrides
        response = await self.post("/requests", body)
        assert response.status_code == 201, response.text
        return response.json()

    def topic(self, name: str = topics.INTAKE) -> str:
        return namespaced(name, self.namespace)

    async def published(
        self, work_order_id: str, *types: str, timeout: float = 30
    ) -> list[Envelope]:
        """The work order's events on Kafka, once all ``types`` have been published."""
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(
            self.topic(),
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        found: list[Envelope] = []
        try:

            async def enough() -> bool:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for record in records:
                        if record.key == work_order_id.encode():
                            found.append(from_kafka(record.key, record.value, record.headers))
                seen = [e.type for e in found]
                return all(seen.count(t) >= types.count(t) for t in set(types))

            await wait_until(enough, timeout=timeout, message=f"{types} for {work_order_id}")
        finally:
            await consumer.stop()
        return found

    async def from_field(self, *events: Event, times: int = 1) -> list[Envelope]:
        """Publish field events as fieldupdates would."""
        return await self._publish(topics.FIELD, "jobstream/fieldupdates", events, times)

    async def from_dispatch(self, *events: Event) -> list[Envelope]:
        """Publish scheduling decisions as dispatch would."""
        return await self._publish(topics.DISPATCH, "jobstream/dispatch", events, 1)

    async def _publish(
        self, topic: str, source: str, events: tuple[Event, ...], times: int
    ) -> list[Envelope]:
        sequence: dict[str, int] = {}
        envelopes = []
        for event in events:
            sequence[event.subject] = sequence.get(event.subject, 0) + 1
            envelopes.append(Envelope.new(event, source=source, sequence=sequence[event.subject]))
        await publish(self.bootstrap, self.topic(topic), envelopes, times=times)
        return envelopes

    async def consumed(self, *envelopes: Envelope, table: Any = None) -> None:
        """Until intake's consumer has handled these.

        ``table``: processed_events, or dead_letters for records it parked.
        """
        from jobstream.intake.db.tables import consumer_tables

        table = consumer_tables.processed if table is None else table
        wanted = {e.id for e in envelopes}
        engine = async_engine(self.database_url)
        try:

            async def handled() -> bool:
                async with engine.connect() as conn:
                    found = await conn.scalars(
                        select(table.c.event_id).where(table.c.event_id.in_(wanted))
                    )
                    return set(found) == wanted

            await wait_until(handled, timeout=30, message=f"{len(wanted)} records consumed")
        finally:
            await engine.dispose()


@pytest_asyncio.fixture
async def intake(
    infra, database_factory, namespace_factory, tmp_path, monkeypatch
) -> AsyncIterator[Intake]:
    namespace = await namespace_factory("it")
    url = database_factory(MIGRATIONS)
    objects = tmp_path / "objects"
    monkeypatch.setenv("JOBSTREAM_OBJECT_STORE_ROOT", str(objects))
    settings = ServiceSettings(
        JOBSTREAM_NAMESPACE=namespace,
        kafka=KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=infra.bootstrap_servers),
        database=DatabaseSettings(DATABASE_URL=url),
    )
    app = create_app(definition(), frozenset(ServiceRole), settings)
    async with app.router.lifespan_context(app):
        # Stopping a consumer that is still joining its group waits out the join: let it finish.
        runners = app.state.runtime.runners
        await wait_until(
            lambda: all(r.ready for r in runners), timeout=60, message="consumer ready"
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://intake", timeout=30
        ) as client:
            yield Intake(client, namespace, infra.bootstrap_servers, url, objects, settings.auth)
