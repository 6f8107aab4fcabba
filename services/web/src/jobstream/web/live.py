"""Live changes for open pages: which jobs and technicians changed, never the data.

The front door tails every event topic from its end and tells each page which jobs and
technicians changed (type and ids only); the page then fetches what it shows through the
services' APIs, where the role rules apply.

Each front door process reads every partition itself with no consumer group (ADR 0073):
every process must see every event for the pages it serves, and nothing is lost if one
is missed — a page that reconnects simply fetches the current state again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from jobstream.contracts.topics import EVENT_TOPICS, namespaced

log = structlog.get_logger(__name__)

QUEUE_SIZE = 1000


@dataclass(frozen=True)
class Change:
    """One event, as much as a page needs to know that it should refresh."""

    type: str
    subject: str
    topic: str
    technicians: tuple[str, ...] = ()
    customer_id: str | None = None

    def as_json(self) -> str:
        """The change as the event stream's data line."""
        return json.dumps(
            {
                "type": self.type,
                "subject": self.subject,
                "topic": self.topic,
                "technicians": list(self.technicians),
            }
        )


def change_from_record(topic: str, headers: list[tuple[str, bytes]], value: bytes) -> Change | None:
    """The change a record stands for, or None if it is not a Jobstream event."""
    attrs = {k: v.decode(errors="replace") for k, v in headers if k.startswith("ce_")}
    if "ce_type" not in attrs or "ce_subject" not in attrs:
        return None
    technicians: list[str] = []
    customer_id = None
    try:
        data = json.loads(value) if value else {}
    except ValueError:
        data = {}
    if isinstance(data, dict):
        for key, item in data.items():
            if key.endswith("technician_id") and isinstance(item, str):
                technicians.append(item)
        customer = data.get("customer_id")
        details = data.get("details")
        if customer is None and isinstance(details, dict):
            customer = details.get("customer_id")
        customer_id = customer if isinstance(customer, str) else None
    return Change(
        type=attrs["ce_type"],
        subject=attrs["ce_subject"],
        topic=topic,
        technicians=tuple(dict.fromkeys(technicians)),
        customer_id=customer_id,
    )


@dataclass
class Hub:
    """Fan-out of changes to every open page of this process."""

    _queues: set[asyncio.Queue[Change | None]] = field(default_factory=set)
    delivered: int = 0

    def publish(self, change: Change) -> None:
        """Hand ``change`` to every subscriber.

        One that cannot keep up is cut off (its page reconnects and fetches afresh) rather
        than slowing everyone.
        """
        for queue in list(self._queues):
            try:
                queue.put_nowait(change)
            except asyncio.QueueFull:
                self._queues.discard(queue)
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)
        self.delivered += 1

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Change | None]]:
        """A queue of changes for as long as the caller stays."""
        queue: asyncio.Queue[Change | None] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        """Open pages."""
        return len(self._queues)


class LiveFeed:
    """The worker that tails the topics into the hub."""

    name = "live-feed"

    def __init__(self, hub: Hub, bootstrap_servers: str, namespace: str) -> None:
        """Tail the event topics of ``namespace`` on ``bootstrap_servers`` into ``hub``."""
        self.hub = hub
        self.bootstrap_servers = bootstrap_servers
        self.topics = [namespaced(t, namespace) for t in EVENT_TOPICS]
        self._ready = False
        self._stopping = asyncio.Event()

    @property
    def ready(self) -> bool:
        """Assigned to every partition and positioned at the end."""
        return self._ready

    async def run(self) -> None:
        """Tail until stopped; reconnect after a broker outage."""
        while not self._stopping.is_set():
            try:
                await self._tail()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._ready = False
                log.warning("live_feed_reconnecting", error=str(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=2.0)

    async def _tail(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        await consumer.start()
        try:
            partitions = await self._partitions()
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            self._ready = True
            log.info("live_feed_tailing", partitions=len(partitions))
            while not self._stopping.is_set():
                batch = await consumer.getmany(timeout_ms=500, max_records=500)
                for tp, records in batch.items():
                    for record in records:
                        change = change_from_record(
                            tp.topic, list(record.headers or ()), record.value or b""
                        )
                        if change is not None:
                            self.hub.publish(change)
        finally:
            self._ready = False
            await consumer.stop()

    async def _partitions(self) -> list[TopicPartition]:
        """Every partition of the event topics.

        A producer's partitions_for waits for the metadata; a consumer without a group only
        knows topics it was assigned.
        """
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap_servers)
        await producer.start()
        try:
            return [
                TopicPartition(topic, p)
                for topic in self.topics
                for p in sorted(await producer.partitions_for(topic))
            ]
        finally:
            await producer.stop()

    def stop(self) -> None:
        """Stop tailing."""
        self._stopping.set()


def visible_to(change: Change, *, technician_id: str | None, customer_id: str | None) -> bool:
    """Whether a person bound to a technician or a customer should hear of ``change``.

    Office roles hear of everything; the page fetches through role-checked APIs anyway.
    """
    if technician_id is not None:
        return technician_id in change.technicians
    if customer_id is not None:
        return change.customer_id == customer_id
    return True


def stream_item(change: Change) -> dict[str, Any]:
    """An SSE item for sse-starlette."""
    return {"event": "change", "data": change.as_json()}
