"""The consumer contract suite every consumer runs against real Kafka and PostgreSQL.

A service subclasses ``ConsumerContract`` and says how to build its consumer, what story of
events to feed it and how to read back the state it projects. The suite then checks:
replaying the log twice gives the same state; a duplicate delivery changes nothing; a
malformed message reaches the dead-letter topic and the consumer goes on; a consumer killed
mid-batch and restarted loses and doubles nothing.

Topics here have one partition: Kafka orders records within a partition only, and a
reaction whose decisions depend on what it saw before (dispatch balances load) may
legitimately decide differently when partitions interleave differently.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, ClassVar

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobstream.db import async_engine
from jobstream.messaging.consumer import ConsumerRunner, ConsumerSpec, ConsumerTables
from jobstream.messaging.envelope import Envelope, to_kafka
from jobstream.testing.infra import Infra
from jobstream.testing.waiting import wait_until

Snapshot = Any


async def publish(bootstrap: str, topic: str, envelopes: list[Envelope], times: int = 1) -> None:
    """Produce each envelope ``times`` times, in order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for _ in range(times):
            for envelope in envelopes:
                key, value, headers = to_kafka(envelope)
                await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def publish_raw(
    bootstrap: str, topic: str, key: bytes | None, value: bytes | None, headers: list
) -> None:
    """Produce one record exactly as given (for malformed input)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


class RunningConsumer:
    """A ConsumerRunner on its own task, stoppable or killable."""

    def __init__(self, runner: ConsumerRunner) -> None:
        """Start ``runner`` on a task of its own."""
        self.runner = runner
        self.task = asyncio.create_task(runner.run())

    async def wait_applied(self, count: int, timeout: float = 60.0) -> None:
        """Until ``count`` records were handled (applied, duplicate or dead-lettered)."""

        def done() -> bool:
            if self.task.done():
                self.task.result()  # surface a crash instead of timing out
            s = self.runner.stats
            return s.applied + s.duplicates + s.dead_lettered >= count

        await wait_until(done, timeout=timeout, message=f"{count} records handled")

    async def stop(self) -> None:
        """Graceful stop."""
        self.runner.stop()
        await asyncio.wait_for(self.task, timeout=30)

    async def kill(self) -> None:
        """Abrupt stop: the task is cancelled wherever it is (mid-transaction included)."""
        self.task.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await self.task


class ConsumerContract:
    """Subclass in a service's integration tests and fill in the hooks."""

    #: "jobstream.<service>.db:migrations"
    migrations: ClassVar[str]
    #: the service's consumer bookkeeping tables
    tables: ClassVar[ConsumerTables]

    def consumer_spec(self) -> ConsumerSpec:
        """The service's consumer, as deployed (topics are replaced by the suite)."""
        raise NotImplementedError

    def scenario(self) -> list[Envelope]:
        """A story of events the consumer handles; fresh ids on each call."""
        raise NotImplementedError

    async def snapshot(self, conn: AsyncConnection) -> Snapshot:
        """The state the consumer projects, free of timestamps and random ids."""
        raise NotImplementedError

    async def prepare(self, conn: AsyncConnection, story: list[Envelope]) -> None:
        """Seed what the consumer needs before the story (e.g. its own records)."""

    # -- plumbing ---------------------------------------------------------------------

    def _runner(
        self, infra: Infra, engine: AsyncEngine, topic: str, group: str, **kwargs: Any
    ) -> ConsumerRunner:
        spec = dataclasses.replace(self.consumer_spec(), topics=(topic,), group_id=group)
        if "wrap" in kwargs:
            wrap = kwargs.pop("wrap")
            spec = dataclasses.replace(
                spec, handlers={k: wrap(h) for k, h in spec.handlers.items()}
            )
        return ConsumerRunner(
            spec, engine, self.tables, bootstrap_servers=infra.bootstrap_servers, **kwargs
        )

    async def _fresh_engine(
        self, database_factory: Callable[[str | None], str], story: list[Envelope]
    ) -> AsyncEngine:
        engine = async_engine(database_factory(self.migrations))
        async with engine.begin() as conn:
            await self.prepare(conn, story)
        return engine

    async def _project(
        self,
        infra: Infra,
        database_factory: Callable[[str | None], str],
        topic: str,
        story: list[Envelope],
        count: int | None = None,
    ) -> tuple[Snapshot, AsyncEngine, ConsumerRunner]:
        count = len(story) if count is None else count
        engine = await self._fresh_engine(database_factory, story)
        running = RunningConsumer(self._runner(infra, engine, topic, f"contract.{topic}"))
        await running.wait_applied(count)
        await running.stop()
        async with engine.connect() as conn:
            return await self.snapshot(conn), engine, running.runner

    # -- the contract -----------------------------------------------------------------

    @pytest.mark.integration
    async def test_replaying_the_log_twice_gives_the_same_state(
        self, infra: Infra, database_factory: Any, topic_factory: Any
    ) -> None:
        """Two projections of the same log into fresh databases hold the same rows."""
        topic = await topic_factory("contract", partitions=1)
        story = self.scenario()
        await publish(infra.bootstrap_servers, topic, story)
        first, engine_a, _ = await self._project(infra, database_factory, topic, story)
        second, engine_b, _ = await self._project(infra, database_factory, topic, story)
        assert first == second
        assert first, "the scenario should project some state"
        # And replaying from offset zero over the same database changes nothing.
        async with engine_a.begin() as conn:
            await conn.execute(delete(self.tables.offsets))
        running = RunningConsumer(self._runner(infra, engine_a, topic, f"contract.{topic}"))
        await running.wait_applied(len(story))
        await running.stop()
        assert running.runner.stats.duplicates == len(story)
        async with engine_a.connect() as conn:
            assert await self.snapshot(conn) == first
        await engine_a.dispose()
        await engine_b.dispose()

    @pytest.mark.integration
    async def test_a_duplicate_delivery_changes_nothing(
        self, infra: Infra, database_factory: Any, topic_factory: Any
    ) -> None:
        """The story delivered twice projects to the same rows as the story delivered once."""
        story = self.scenario()
        once_topic, twice_topic = (
            await topic_factory("contract", partitions=1),
            await topic_factory("contract", partitions=1),
        )
        await publish(infra.bootstrap_servers, once_topic, story)
        await publish(infra.bootstrap_servers, twice_topic, story, times=2)
        once, engine_a, _ = await self._project(infra, database_factory, once_topic, story)
        twice, engine_b, runner = await self._project(
            infra, database_factory, twice_topic, story, 2 * len(story)
        )
        assert runner.stats.duplicates == len(story)
        assert twice == once
        await engine_a.dispose()
        await engine_b.dispose()

    @pytest.mark.integration
    async def test_a_malformed_message_is_dead_lettered_and_the_consumer_goes_on(
        self, infra: Infra, database_factory: Any, topic_factory: Any, topic_reader: Any
    ) -> None:
        """A record that is not JSON goes to the dead-letter topic; the rest is projected."""
        story = self.scenario()
        topic = await topic_factory("contract", partitions=1)
        first_type = story[0].type
        key = story[0].subject.encode()
        await publish_raw(
            infra.bootstrap_servers,
            topic,
            key,
            b"{not json",
            [("ce_type", first_type.encode()), ("ce_specversion", b"1.0")],
        )
        await publish(infra.bootstrap_servers, topic, story)
        clean_topic = await topic_factory("contract", partitions=1)
        await publish(infra.bootstrap_servers, clean_topic, story)
        expected, engine_a, _ = await self._project(infra, database_factory, clean_topic, story)
        got, engine_b, runner = await self._project(
            infra, database_factory, topic, story, len(story) + 1
        )
        assert runner.stats.dead_lettered == 1
        assert got == expected
        dead = await topic_reader(f"{topic}.dlq", lambda recs: len(recs) >= 1)
        headers = dict(dead[0].headers)
        assert headers["dlq_origin_topic"] == topic.encode()
        assert headers["dlq_origin_offset"] == b"0"
        assert b"malformed" in headers["dlq_error"]
        assert dead[0].value == b"{not json"
        await engine_a.dispose()
        await engine_b.dispose()

    @pytest.mark.integration
    async def test_a_consumer_killed_mid_batch_loses_and_doubles_nothing(
        self, infra: Infra, database_factory: Any, topic_factory: Any
    ) -> None:
        """A consumer killed mid-batch and started again ends with the rows of a clean run."""
        story = self.scenario()
        topic = await topic_factory("contract", partitions=1)
        await publish(infra.bootstrap_servers, topic, story)
        clean_topic = await topic_factory("contract", partitions=1)
        await publish(infra.bootstrap_servers, clean_topic, story)
        expected, engine_clean, _ = await self._project(infra, database_factory, clean_topic, story)

        engine = await self._fresh_engine(database_factory, story)
        reached_middle = asyncio.Event()
        calls = 0
        middle = max(len(story) // 2, 1)

        def wrap(handler: Callable[[AsyncConnection, Envelope], Awaitable[None]]) -> Any:
            async def crashing(conn: AsyncConnection, envelope: Envelope) -> None:
                nonlocal calls
                await handler(conn, envelope)
                calls += 1
                if calls == middle:
                    reached_middle.set()
                    await asyncio.Event().wait()  # hang inside the open transaction

            return crashing

        group = f"contract.{topic}"
        doomed = RunningConsumer(self._runner(infra, engine, topic, group, wrap=wrap))
        await asyncio.wait_for(reached_middle.wait(), timeout=60)
        await doomed.kill()

        survivor = RunningConsumer(self._runner(infra, engine, topic, group))
        await survivor.wait_applied(len(story))
        await survivor.stop()
        assert survivor.runner.stats.duplicates == 0, "the killed batch must not have committed"
        async with engine.connect() as conn:
            assert await self.snapshot(conn) == expected
        await engine.dispose()
        await engine_clean.dispose()
