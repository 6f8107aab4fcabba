"""Topic administration over the Kafka admin API (idempotent creation, readiness)."""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from jobstream.contracts.topics import TopicSpec


async def wait_for_broker(bootstrap_servers: str, timeout_s: float = 60.0) -> None:
    """Return once the broker answers a metadata request; raise TimeoutError at the deadline."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            last_error = exc
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise TimeoutError(f"Kafka at {bootstrap_servers} did not answer: {last_error!r}")


async def ensure_topics(bootstrap_servers: str, specs: list[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if not missing:
            return []
        new_topics = [
            NewTopic(
                name=s.name,
                num_partitions=s.partitions,
                replication_factor=1,
                topic_configs=s.config,
            )
            for s in missing
        ]
        # A concurrent creator may win the race; the topic exists, which is all we need.
        with suppress(TopicAlreadyExistsError):
            await admin.create_topics(new_topics)
        return [s.name for s in missing]
    finally:
        await admin.close()


async def delete_topics(bootstrap_servers: str, names: list[str]) -> None:
    """Delete the named topics that exist.

    Tests clean up after themselves with this: a long-lived development broker would
    otherwise collect thousands of partitions.
    """
    if not names:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=60_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed, timeout_ms=60_000)
    finally:
        await admin.close()
