"""The outbox relay: publishes a service's events to Kafka in position order.

Gap safety comes from the relay working from ``published_at IS NULL`` rather than a
"position > last" cursor: a row that commits after a later position was published is
still unpublished, and goes out in the next batch, so none is ever stepped over. Order
comes from appends being serialised per subject (see store.py, ADR 0079): one subject's
rows become visible in position order, so each Kafka key receives its events in order. A row is
marked published only after Kafka acknowledged it (idempotent producer, ``acks=all``);
after a broker outage the relay resumes from the oldest unpublished row, so nothing is
lost or reordered (a re-send after a crash is possible: consumers dedupe by event id).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import Table, func, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from jobstream.contracts.topics import namespaced
from jobstream.eventstore.tables import NOTIFY_CHANNEL
from jobstream.messaging.envelope import CloudEventAttributes, encode_headers
from jobstream.observability.metrics import (
    RELAY_BACKLOG,
    RELAY_ERRORS,
    RELAY_OLDEST_UNPUBLISHED,
    RELAY_PUBLISHED,
)

log = structlog.get_logger(__name__)

# One relay per service database publishes at a time; the others stand by.
RELAY_LOCK_KEY = 0x6A6F6273  # "jobs"

# The backlog count stops here: past it the number says "far behind" well enough, and
# counting every row of a huge backlog every few seconds would add to the load behind it.
BACKLOG_COUNT_CAP = 100_000


def record_to_kafka(
    row: Row[*tuple[Any, ...]], source: str
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) for one events row."""
    headers = encode_headers(
        CloudEventAttributes(
            event_id=str(row.event_id),
            event_type=row.event_type,
            source=source,
            time=row.occurred_at,
            subject=row.subject,
            schema_version=row.schema_version,
            sequence=row.stream_version,
            correlation_id=row.correlation_id,
            causation_id=row.causation_id,
        )
    )
    value = json.dumps(row.data, separators=(",", ":"), sort_keys=True).encode()
    return row.subject.encode(), value, headers


def make_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    """The idempotent producer with ``acks=all`` used for every publish."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=15000,
    )


@dataclass(frozen=True)
class RelayPacing:
    """How fast the relay works: rows per batch, polling when idle, backoff after errors."""

    batch_size: int = 500
    poll_interval_s: float = 2.0
    max_backoff_s: float = 10.0
    backlog_interval_s: float = 5.0


class OutboxRelay:
    """Tails the events table and publishes unpublished rows, in order."""

    def __init__(
        self,
        engine: AsyncEngine,
        events: Table,
        *,
        source: str,
        bootstrap_servers: str,
        listen_dsn: str,
        namespace: str = "",
        pacing: RelayPacing = RelayPacing(),
        producer_factory: Callable[[], AIOKafkaProducer] | None = None,
    ) -> None:
        """A relay for ``source``'s ``events``; nothing is published before :meth:`run`."""
        self.engine = engine
        self.events = events
        self.source = source
        self.bootstrap_servers = bootstrap_servers
        self.listen_dsn = listen_dsn
        self.namespace = namespace
        self.pacing = pacing
        self._producer_factory = producer_factory or (
            lambda: make_producer(bootstrap_servers, f"{source}-relay")
        )
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.running = False

    def stop(self) -> None:
        """Ask the relay to finish its current batch and return."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Publish until stopped, surviving broker and database outages."""
        helpers = [
            asyncio.create_task(self._listen(), name=f"{self.source}-relay-listen"),
            asyncio.create_task(self._measure(), name=f"{self.source}-relay-backlog"),
        ]
        try:
            await self._run_as_leader()
        finally:
            for helper in helpers:
                helper.cancel()
            for helper in helpers:
                with suppress(asyncio.CancelledError):
                    await helper

    async def _run_as_leader(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                async with self.engine.connect() as lock_conn:
                    got = await lock_conn.scalar(
                        text("SELECT pg_try_advisory_lock(:k)"), {"k": RELAY_LOCK_KEY}
                    )
                    if not got:
                        await self._sleep(self.pacing.poll_interval_s)
                        continue
                    try:
                        await self._publish_loop()
                    finally:
                        with suppress(Exception):
                            await lock_conn.execute(
                                text("SELECT pg_advisory_unlock(:k)"), {"k": RELAY_LOCK_KEY}
                            )
                backoff = 0.5
            except Exception as exc:
                # Stay alive through any outage: log, back off and start again from the
                # oldest unpublished row.
                RELAY_ERRORS.labels(service=self.source).inc()
                log.warning("relay_error", error=repr(exc), retry_in_s=backoff)
                await self._sleep(backoff)
                backoff = min(backoff * 2, self.pacing.max_backoff_s)

    async def _publish_loop(self) -> None:
        producer = self._producer_factory()
        await producer.start()
        self.running = True
        try:
            while not self._stopping.is_set():
                published = await self.publish_pending(producer)
                if published < self.pacing.batch_size:
                    await self._sleep(self.pacing.poll_interval_s)
        finally:
            self.running = False
            with suppress(Exception):
                await producer.stop()

    async def publish_pending(self, producer: AIOKafkaProducer) -> int:
        """Publish one batch of unpublished rows; return how many."""
        t = self.events
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.position)
                    .limit(self.pacing.batch_size)
                )
            ).all()
        if not rows:
            return 0
        futures = []
        for row in rows:
            key, value, headers = record_to_kafka(row, self.source)
            topic = namespaced(row.topic, self.namespace)
            futures.append(await producer.send(topic, value=value, key=key, headers=headers))
        # Every send of the batch must be acknowledged before any row is marked published.
        await asyncio.gather(*futures)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t)
                .where(t.c.position.in_([r.position for r in rows]))
                .values(published_at=datetime.now(UTC))
            )
        RELAY_PUBLISHED.labels(service=self.source).inc(len(rows))
        log.debug("relay_published", count=len(rows), last_position=rows[-1].position)
        return len(rows)

    async def measure_backlog(self) -> tuple[int, float]:
        """Set the backlog gauges from the table: (unpublished rows, oldest one's age in s).

        The age is the database's ``now() - recorded_at``, so the relay's clock plays no
        part; ``occurred_at`` would not do, since a device may report hours late.
        """
        t = self.events
        unpublished = t.c.published_at.is_(None)
        async with self.engine.connect() as conn:
            waiting = select(t.c.position).where(unpublished).limit(BACKLOG_COUNT_CAP).subquery()
            count = int(await conn.scalar(select(func.count()).select_from(waiting)) or 0)
            age = await conn.scalar(
                select(func.extract("epoch", func.now() - t.c.recorded_at))
                .where(unpublished)
                .order_by(t.c.position)
                .limit(1)
            )
        oldest = max(float(age), 0.0) if age is not None else 0.0
        RELAY_BACKLOG.labels(service=self.source).set(count)
        RELAY_OLDEST_UNPUBLISHED.labels(service=self.source).set(oldest)
        return count, oldest

    async def _measure(self) -> None:
        """Measure the backlog every few seconds, whatever the publishing side is doing."""
        while not self._stopping.is_set():
            try:
                await self.measure_backlog()
            except Exception as exc:
                # The gauges keep their last values; the database outage shows elsewhere
                # (readiness, relay errors).
                log.info("relay_backlog_unmeasured", error=repr(exc))
            with suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self.pacing.backlog_interval_s
                )

    async def _sleep(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    async def _listen(self) -> None:
        """Wake the relay on NOTIFY; reconnect if the connection drops (polling covers gaps)."""
        while not self._stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.listen_dsn, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._wake.set()  # catch up on anything appended before LISTEN took effect
                    async for _ in conn.notifies():
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("relay_listen_reconnect", error=repr(exc))
                await asyncio.sleep(1.0)
