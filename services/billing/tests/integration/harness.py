"""Real Kafka and PostgreSQL for billing's integration tests.

A namespace of topics, a migrated database, the worker and the relay running, and job
stories to publish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from jobstream.billing.db import generations, queries
from jobstream.billing.db.tables import events
from jobstream.billing.worker import GenerationWorker
from jobstream.contracts.base import Event
from jobstream.contracts.field import (
    IncompleteReason,
    JobIncomplete,
    JobReopened,
    MaterialUsageCorrected,
)
from jobstream.contracts.topics import namespaced
from jobstream.db import async_engine, libpq_dsn
from jobstream.eventstore.relay import OutboxRelay, RelayPacing
from jobstream.messaging.envelope import Envelope
from jobstream.testing.builders import JobStory
from jobstream.testing.contract_suite import publish
from jobstream.testing.waiting import wait_until

MIGRATIONS = "jobstream.billing.db:migrations"


class Story(JobStory):
    """A job story with the events billing corrects on."""

    def reopened(self, minutes_after: int = 240) -> JobReopened:
        return JobReopened(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            reason="Customer reports the fault is back",
            reopened_by="office",
            reopened_at=self.start + timedelta(minutes=minutes_after),
        )

    def material_corrected(self, quantity_milli: int, entry: str = "m1") -> MaterialUsageCorrected:
        return MaterialUsageCorrected(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            entry_id=f"{self.work_order_id}-{entry}",
            quantity_milli=quantity_milli,
            reason="Valve was returned unused",
            corrected_by="office",
            corrected_at=self.start + timedelta(hours=5),
        )

    def incomplete(self, reason: IncompleteReason, labour_minutes: int = 0) -> JobIncomplete:
        at = self.start + timedelta(hours=3)
        return JobIncomplete(
            work_order_id=self.work_order_id,
            technician_id=self.technician_id,
            device_time=at,
            received_at=at,
            customer_id=self.customer_id,
            job_type=self.job_type,
            priority=self.priority,
            ended_at=at,
            reason=reason,
            labour_minutes=labour_minutes,
        )

    def priced_story(self) -> list[Event]:
        """Technician, release, 75 min labour, a valve, completion."""
        return [
            self.technician_registered(),
            self.released(),
            self.time_logged(75),
            self.material_used("VALVE-15", 1000),
            self.completed(75),
        ]


@dataclass
class Billing:
    """One billing deployment on real infrastructure, in its own namespace."""

    bootstrap: str
    url: str
    namespace: str
    engine: AsyncEngine
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    worker: GenerationWorker | None = None
    relay: OutboxRelay | None = None
    sequences: dict[str, int] = field(default_factory=dict)

    async def publish(self, events_: list[Event], times: int = 1) -> list[Envelope]:
        """Publish events to their (namespaced) topics, in order, as their owners would."""
        sent = []
        for event in events_:
            self.sequences[event.subject] = self.sequences.get(event.subject, 0) + 1
            envelope = Envelope.new(
                event, source="jobstream/test", sequence=self.sequences[event.subject]
            )
            await publish(
                self.bootstrap, namespaced(event.topic, self.namespace), [envelope], times
            )
            sent.append(envelope)
        return sent

    def start_worker(self) -> None:
        self.worker = GenerationWorker(
            self.engine, bootstrap_servers=self.bootstrap, namespace=self.namespace, poll_s=0.2
        )
        self.tasks.append(asyncio.create_task(self.worker.run()))

    def start_relay(self) -> None:
        self.relay = OutboxRelay(
            self.engine,
            events,
            source="jobstream/billing",
            bootstrap_servers=self.bootstrap,
            listen_dsn=libpq_dsn(self.url),
            namespace=self.namespace,
            pacing=RelayPacing(poll_interval_s=0.2),
        )
        self.tasks.append(asyncio.create_task(self.relay.run()))

    async def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        for task in self.tasks:
            if not task.done() and task.get_name() != "relay":
                with suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=30)

    async def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.relay is not None:
            self.relay.stop()
        for task in self.tasks:
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task
        await self.engine.dispose()

    async def read(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a query on the active generation."""
        async with self.engine.connect() as probe:
            generation = await generations.active(probe)
        assert generation is not None
        async with generations.engine_for(self.engine, generation).connect() as conn:
            return await fn(conn, *args, **kwargs)

    async def invoices(self, work_order_id: str | None = None) -> list[dict[str, Any]]:
        return await self.read(queries.list_invoices, work_order_id=work_order_id, limit=1000)

    async def credit_notes(self, work_order_id: str | None = None) -> list[dict[str, Any]]:
        return await self.read(queries.list_credit_notes, work_order_id=work_order_id, limit=1000)

    async def wait_for_invoices(
        self, work_order_id: str, count: int, timeout: float = 60
    ) -> list[dict[str, Any]]:
        async def enough() -> list[dict[str, Any]] | None:
            found = await self.invoices(work_order_id)
            return found if len(found) >= count else None

        return await wait_until(enough, timeout=timeout, message=f"{count} invoices")

    async def wait_for_job(self, work_order_id: str, status: str, timeout: float = 60) -> Any:
        async def reached() -> Any:
            job = await self.read(queries.get_job, work_order_id)
            return job if job and job["status"] == status else None

        return await wait_until(reached, timeout=timeout, message=f"job {status}")


async def deploy(infra: Any, database_factory: Any, namespace_factory: Any) -> Billing:
    """A migrated database and a namespace of topics (nothing running yet)."""
    namespace = await namespace_factory("bill")
    url = database_factory(MIGRATIONS)
    engine = async_engine(url, pool_size=5)
    await generations.ensure_active(engine)
    return Billing(infra.bootstrap_servers, url, namespace, engine)
