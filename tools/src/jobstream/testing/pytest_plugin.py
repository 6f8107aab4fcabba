"""pytest plugin: real Kafka and PostgreSQL for every test that asks for them."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import suppress
from typing import TypeVar

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer

from jobstream.auth.keys import use_key_files
from jobstream.contracts.topics import (
    LOG_TOPIC_CONFIG,
    TopicSpec,
    all_topic_specs,
    dead_letter_topic,
)
from jobstream.db import upgrade_to_head
from jobstream.messaging.admin import delete_topics, ensure_topics
from jobstream.testing.infra import Infra, create_database, drop_database, find_infra
from jobstream.testing.waiting import wait_until

T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    """Tests mint their own tokens: give the run a signing key set if the environment has none.

    The services the run starts get its public JWKS as a file.
    """
    if not os.environ.get("JOBSTREAM_SIGNING_KEYS"):
        use_key_files(tempfile.mkdtemp(prefix="jobstream-test-keys-"))


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """The session's real broker and database server."""
    with find_infra() as found:
        yield found


@pytest.fixture
def database_factory(infra: Infra) -> Iterator[Callable[[str | None], str]]:
    """Make fresh databases, migrated with a service's Alembic scripts when one is named."""
    made: list[str] = []

    def make(migrations: str | None = None) -> str:
        url = create_database(infra)
        made.append(url)
        if migrations:
            upgrade_to_head(migrations, url)
        return url

    yield make
    for url in made:
        drop_database(infra, url)


@pytest_asyncio.fixture
async def topic_factory(infra: Infra) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Create uniquely named topics (and their dead-letter topics) for one test.

    They are deleted afterwards.
    """
    created: list[str] = []

    async def make(prefix: str = "test", partitions: int = 3) -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:10]}"
        specs = [
            TopicSpec(name, partitions, dict(LOG_TOPIC_CONFIG)),
            TopicSpec(dead_letter_topic(name), 1, dict(LOG_TOPIC_CONFIG)),
        ]
        created.extend(s.name for s in specs)
        await ensure_topics(infra.bootstrap_servers, specs)
        return name

    yield make
    with suppress(Exception):  # cleaning up must never fail the test that used them
        await delete_topics(infra.bootstrap_servers, created)


@pytest_asyncio.fixture
async def namespace_factory(infra: Infra) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """A fresh JOBSTREAM_NAMESPACE with every event and dead-letter topic created in it.

    For tests that run services; the topics are deleted afterwards.
    """
    created: list[str] = []

    async def make(prefix: str = "it", partitions: int = 3) -> str:
        namespace = f"{prefix}-{uuid.uuid4().hex[:8]}"
        specs = all_topic_specs(partitions, namespace)
        created.extend(s.name for s in specs)
        await ensure_topics(infra.bootstrap_servers, specs)
        return namespace

    yield make
    with suppress(Exception):
        await delete_topics(infra.bootstrap_servers, created)


@pytest_asyncio.fixture
async def topic_reader(infra: Infra) -> AsyncIterator[Callable[..., Awaitable[list]]]:
    """Read every record of a topic from the beginning until ``predicate`` holds."""
    consumers: list[AIOKafkaConsumer] = []

    async def read(topic: str, predicate: Callable[[list], bool], timeout: float = 30.0) -> list:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=infra.bootstrap_servers,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        consumers.append(consumer)
        await consumer.start()
        records: list = []

        async def enough() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
            return predicate(records)

        await wait_until(enough, timeout=timeout, message=f"records on {topic}")
        return records

    yield read
    for consumer in consumers:
        await consumer.stop()
