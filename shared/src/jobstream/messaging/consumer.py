"""The consumer runner: exactly-once effects over at-least-once delivery.

Each batch of one partition (or, for a consumer that asks, everything one poll returned)
is applied in ONE database transaction together with the processed event ids and the next
offsets; Kafka is told only after that commit (its committed offset is merely a hint).
On assignment the runner seeks to the offsets stored in the database, and skips any record
below them, so a crash between the database commit and the Kafka commit replays nothing. A
record that cannot be parsed, or whose handler keeps failing, goes to ``<topic>.dlq`` with
the error and its origin in headers and the runner moves on; a transient failure (database
or broker down) retries the whole batch with backoff without moving on.

Why aiokafka and not a FastStream subscriber: see docs/adr/0002-consumer-runner-on-aiokafka.md.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from sqlalchemy import Table, Text, bindparam, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobstream.contracts.base import EventRegistry, registry
from jobstream.contracts.topics import dead_letter_topic
from jobstream.eventstore.relay import make_producer
from jobstream.messaging.envelope import Envelope, MalformedMessageError, from_kafka
from jobstream.observability.metrics import BATCH_SECONDS, CONSUMED, CONSUMER_LAG, CONSUMER_RETRIES

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]
BatchHook = Callable[[AsyncConnection, Sequence[Envelope]], Awaitable[None]]


class TransientError(Exception):
    """Raise from a handler for a failure worth retrying without moving on."""


TRANSIENT = (TransientError, OperationalError, InterfaceError, OSError, TimeoutError, KafkaError)


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the batch later may succeed (outage rather than bad data)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT)


@dataclass(frozen=True)
class ConsumerSpec:
    """What one consumer group reads and how it reacts, by event type.

    Handlers keep every effect inside the connection they are given: a handler may run
    more than once for one event (a batch that fails is rolled back and applied again
    record by record; a failing record is retried), and only the committed run counts.
    """

    group_id: str
    topics: tuple[str, ...]
    handlers: Mapping[str, Handler]
    # Optional: called once per batch, in the batch's transaction after its handlers, with
    # the envelopes applied in it (duplicates, ignored and dead-lettered records left out),
    # for work worth doing once per batch rather than per record (a projection that
    # refolds each touched aggregate once). When a batch falls back to record by record,
    # the hook is called for each record inside that record's savepoint.
    after_batch: BatchHook | None = None
    # Optional: apply everything one poll returned, from every partition, in ONE
    # transaction (each partition's offset stored in it), so a hook whose aggregates span
    # topics does its work once per poll rather than once per partition. Handlers and the
    # hook then see records of several partitions in one batch (each partition's in order).
    across_partitions: bool = False
    # Optional: at most this many records per poll (the runner's batch_size otherwise).
    max_records: int | None = None
    # The contracts records are read with: every registered one, unless a test stands in
    # another release's (docs/adr/0082).
    reader: EventRegistry = registry


@dataclass(frozen=True)
class ConsumerTables:
    """A service's bookkeeping tables (see messaging/tables.py)."""

    offsets: Table
    processed: Table
    dead_letters: Table


@dataclass
class RunnerStats:
    """Counts since start, for tests and readiness."""

    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    batches: int = 0
    assigned: set[TopicPartition] = field(default_factory=set)


class _SeekToStoredOffsets:
    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        self.runner.stats.assigned.difference_update(revoked)
        self.runner.forget_lag(revoked)

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        await self.runner.seek_to_stored(list(assigned))
        self.runner.stats.assigned.update(assigned)


# A virtual subclass rather than a subclass: aiokafka ships no type information, so to the
# type checker its ABC is Any, while subscribe() only checks isinstance (which this passes).
ConsumerRebalanceListener.register(_SeekToStoredOffsets)


class ConsumerRunner:
    """Consumes ``spec.topics`` as ``spec.group_id`` and applies handlers exactly once."""

    def __init__(
        self,
        spec: ConsumerSpec,
        engine: AsyncEngine,
        tables: ConsumerTables,
        *,
        bootstrap_servers: str,
        batch_size: int = 200,
        max_attempts: int = 3,
        max_backoff_s: float = 10.0,
        client_id: str | None = None,
    ) -> None:
        """A runner for ``spec``, recording in ``tables``; nothing is consumed before run()."""
        self.spec = spec
        self.engine = engine
        self.tables = tables
        self.bootstrap_servers = bootstrap_servers
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.max_backoff_s = max_backoff_s
        self.client_id = client_id or spec.group_id
        self.stats = RunnerStats()
        # At zero from the start, so the first dead letter is an increase Prometheus sees
        # (a series that appears at 1 has no increase).
        for topic in spec.topics:
            CONSUMED.labels(spec.group_id, topic, "dead_lettered")
        self._stopping = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq: AIOKafkaProducer | None = None

    def stop(self) -> None:
        """Finish the current batch, then return from run()."""
        self._stopping.set()

    @property
    def ready(self) -> bool:
        """True once the group gave this runner its partitions."""
        return bool(self.stats.assigned)

    async def run(self) -> None:
        """Consume until stopped; restart the Kafka clients after an outage."""
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                await self._run_once()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer_restart", group=self.spec.group_id, error=repr(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    async def _run_once(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.spec.group_id,
            client_id=self.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_interval_ms=300_000,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=3_000,
        )
        dlq = make_producer(self.bootstrap_servers, f"{self.client_id}-dlq")
        consumer.subscribe(list(self.spec.topics), listener=_SeekToStoredOffsets(self))
        self._consumer, self._dlq = consumer, dlq
        await consumer.start()
        await dlq.start()
        try:
            max_records = self.spec.max_records or self.batch_size
            while not self._stopping.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=max_records)
                if self.spec.across_partitions:
                    if batches:
                        await self._apply_with_retry(consumer, batches)
                else:
                    for tp, records in batches.items():
                        await self._apply_with_retry(consumer, {tp: records})
        finally:
            self.forget_lag(self.stats.assigned)
            self.stats.assigned.clear()
            with suppress(Exception):
                await consumer.stop()
            with suppress(Exception):
                await dlq.stop()

    def forget_lag(self, partitions: Iterable[TopicPartition]) -> None:
        """Drop the lag gauges of partitions this runner no longer owns.

        Their last value would otherwise stay on as if current, beside the new owner's.
        """
        for tp in list(partitions):
            CONSUMER_LAG.remove(self.spec.group_id, tp.topic, str(tp.partition))

    async def seek_to_stored(self, partitions: list[TopicPartition]) -> None:
        """Position each partition at the offset stored with the projection."""
        assert self._consumer is not None
        stored = await self._stored_offsets(partitions)
        for tp in partitions:
            if tp in stored:
                self._consumer.seek(tp, stored[tp])
            else:
                # No row: this projection has applied nothing from the partition, whatever
                # Kafka's committed offset says (e.g. a rebuild into fresh tables).
                await self._consumer.seek_to_beginning(tp)
        log.info(
            "partitions_assigned",
            group=self.spec.group_id,
            partitions=[f"{tp.topic}:{tp.partition}@{stored.get(tp, 0)}" for tp in partitions],
        )

    async def _stored_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        t = self.tables.offsets
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.c.topic, t.c.partition, t.c.next_offset).where(
                    t.c.consumer_group == self.spec.group_id,
                    t.c.topic.in_({tp.topic for tp in partitions}),
                )
            )
            return {
                TopicPartition(r.topic, r.partition): r.next_offset
                for r in rows
                if TopicPartition(r.topic, r.partition) in partitions
            }

    async def _apply_with_retry(
        self, consumer: AIOKafkaConsumer, batches: Mapping[TopicPartition, list[ConsumerRecord]]
    ) -> None:
        backoff = 0.2
        while True:
            started = time.perf_counter()
            try:
                next_offsets = await self.apply_batches(batches)
                break
            except Exception as exc:
                if not is_transient(exc) or self._stopping.is_set():
                    raise
                CONSUMER_RETRIES.labels(group=self.spec.group_id).inc()
                log.warning(
                    "batch_retry",
                    group=self.spec.group_id,
                    partitions=[f"{tp.topic}:{tp.partition}" for tp in batches],
                    error=repr(exc),
                    retry_in_s=backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
        BATCH_SECONDS.labels(group=self.spec.group_id).observe(time.perf_counter() - started)
        self.stats.batches += 1
        # Only a hint for tools that read Kafka's committed offsets: the database rows are
        # the truth, so a failure here loses nothing.
        with suppress(KafkaError):
            await consumer.commit(next_offsets)
        for tp, next_offset in next_offsets.items():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                CONSUMER_LAG.labels(self.spec.group_id, tp.topic, str(tp.partition)).set(
                    max(highwater - next_offset, 0)
                )

    async def apply_batch(self, tp: TopicPartition, records: list[ConsumerRecord]) -> int | None:
        """Apply one partition's records in one transaction; return the next offset stored."""
        return (await self.apply_batches({tp: records}))[tp]

    async def apply_batches(
        self, batches: Mapping[TopicPartition, list[ConsumerRecord]]
    ) -> dict[TopicPartition, int]:
        """Apply the records of these partitions in one transaction; the next offsets stored.

        Each partition's next offset is stored in that same transaction.
        """
        t_off = self.tables.offsets
        async with self.engine.begin() as conn:
            await conn.execute(
                pg_insert(t_off)
                .values(
                    [
                        {
                            "consumer_group": self.spec.group_id,
                            "topic": tp.topic,
                            "partition": tp.partition,
                            "next_offset": 0,
                        }
                        # Sorted: two transactions making rows of several partitions
                        # wait for each other in one order, never in a cycle.
                        for tp in sorted(batches)
                    ]
                )
                .on_conflict_do_nothing()
            )
            # Row locks: after a rebalance two members may briefly hold the same partition;
            # the second waits here and then skips what the first applied. One statement in
            # the database's own order, so two lockers of several rows cannot deadlock.
            stored_rows = await conn.execute(
                select(t_off.c.topic, t_off.c.partition, t_off.c.next_offset)
                .where(
                    t_off.c.consumer_group == self.spec.group_id,
                    tuple_(t_off.c.topic, t_off.c.partition).in_(
                        [(tp.topic, tp.partition) for tp in batches]
                    ),
                )
                .order_by(t_off.c.topic, t_off.c.partition)
                .with_for_update()
            )
            stored = {TopicPartition(r.topic, r.partition): int(r.next_offset) for r in stored_rows}
            next_offsets: dict[TopicPartition, int] = {}
            todo: list[ConsumerRecord] = []
            for tp, records in batches.items():
                # Below the stored offset: applied before a crash or by the previous owner.
                below = stored.get(tp, 0)
                fresh = [record for record in records if record.offset >= below]
                todo += fresh
                next_offsets[tp] = fresh[-1].offset + 1 if fresh else below
            if todo:
                await self._apply_together(conn, todo)
            for tp, next_offset in next_offsets.items():
                await conn.execute(
                    t_off.update()
                    .where(
                        t_off.c.consumer_group == self.spec.group_id,
                        t_off.c.topic == tp.topic,
                        t_off.c.partition == tp.partition,
                    )
                    .values(next_offset=next_offset, updated_at=datetime.now(UTC))
                )
        return next_offsets

    async def _decode(self, conn: AsyncConnection, record: ConsumerRecord) -> Envelope | None:
        """The record's envelope, or None once it was counted as ignored or dead-lettered."""
        headers = list(record.headers or ())
        event_type = _header(headers, "ce_type")
        if event_type is not None and event_type not in self.spec.handlers:
            self._count(record, "ignored")
            return None
        try:
            envelope = from_kafka(record.key, record.value, headers, self.spec.reader)
        except MalformedMessageError as exc:
            await self._dead_letter(conn, record, f"malformed: {exc}")
            return None
        return envelope

    async def _apply_together(self, conn: AsyncConnection, records: list[ConsumerRecord]) -> None:
        """Apply a batch under one savepoint, recording its event ids in one statement.

        The batch hook, if the consumer has one, is called once (see ConsumerSpec).

        This is the fast path every batch takes. If any handler fails for a reason other
        than an outage, the savepoint rolls the whole batch back and it is applied again
        record by record, each under its own savepoint, so only the bad record is
        dead-lettered and everything else still applies exactly once.
        """
        decoded = [
            (record, envelope)
            for record in records
            if (envelope := await self._decode(conn, record)) is not None
        ]
        if not decoded:
            return
        t_proc = self.tables.processed
        ids = list(dict.fromkeys(envelope.id for _, envelope in decoded))
        try:
            async with conn.begin_nested():
                # One array parameter, so the statement is the same (and compiled once) for
                # every batch size.
                result = await conn.execute(
                    pg_insert(t_proc)
                    .from_select(
                        ["consumer_group", "event_id"],
                        select(
                            literal(self.spec.group_id, Text),
                            func.unnest(bindparam("ids", ids, type_=ARRAY(Text))),
                        ),
                    )
                    .on_conflict_do_nothing()
                    .returning(t_proc.c.event_id)
                )
                fresh = set(result.scalars())
                applied: list[tuple[ConsumerRecord, Envelope]] = []
                for record, envelope in decoded:
                    if envelope.id in fresh:
                        fresh.discard(envelope.id)  # a second copy in the batch is a duplicate
                        applied.append((record, envelope))
                for _, envelope in applied:
                    await self.spec.handlers[envelope.type](conn, envelope)
                if applied and self.spec.after_batch is not None:
                    await self.spec.after_batch(conn, [envelope for _, envelope in applied])
        except Exception as exc:
            if is_transient(exc):
                raise
            log.warning("batch_failed_applying_one_by_one", error=repr(exc), records=len(records))
            for record, envelope in decoded:
                await self._apply_decoded(conn, record, envelope, with_hook=True)
            return
        applied_records = {id(record) for record, _ in applied}
        for record, _ in decoded:
            self._count(record, "applied" if id(record) in applied_records else "duplicate")

    async def _apply_decoded(
        self,
        conn: AsyncConnection,
        record: ConsumerRecord,
        envelope: Envelope,
        *,
        with_hook: bool = False,
    ) -> None:
        handler = self.spec.handlers[envelope.type]
        structlog.contextvars.bind_contextvars(
            event_id=envelope.id,
            event_type=envelope.type,
            correlation_id=envelope.correlation_id,
            subject=envelope.subject,
            kafka=f"{record.topic}:{record.partition}@{record.offset}",
        )
        try:
            t_proc = self.tables.processed
            last_error: Exception | None = None
            for attempt in range(1, self.max_attempts + 1):
                try:
                    async with conn.begin_nested():
                        inserted = await conn.execute(
                            pg_insert(t_proc)
                            .values(consumer_group=self.spec.group_id, event_id=envelope.id)
                            .on_conflict_do_nothing()
                            .returning(t_proc.c.event_id)
                        )
                        if inserted.first() is None:
                            self._count(record, "duplicate")
                            return
                        await handler(conn, envelope)
                        if with_hook and self.spec.after_batch is not None:
                            await self.spec.after_batch(conn, [envelope])
                    self._count(record, "applied")
                    return
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    last_error = exc
                    log.warning("handler_failed", attempt=attempt, error=repr(exc))
            await self._dead_letter(conn, record, f"handler failed: {last_error!r}", envelope)
        finally:
            structlog.contextvars.unbind_contextvars(
                "event_id", "event_type", "correlation_id", "subject", "kafka"
            )

    async def _dead_letter(
        self,
        conn: AsyncConnection,
        record: ConsumerRecord,
        error: str,
        envelope: Envelope | None = None,
    ) -> None:
        """Send the record to ``<topic>.dlq`` and keep a row for accounting and re-drive."""
        assert self._dlq is not None
        headers = list(record.headers or ())
        origin: list[tuple[str, bytes]] = [
            ("dlq_error", error[:2000].encode()),
            ("dlq_origin_topic", record.topic.encode()),
            ("dlq_origin_partition", str(record.partition).encode()),
            ("dlq_origin_offset", str(record.offset).encode()),
            ("dlq_consumer_group", self.spec.group_id.encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        await self._dlq.send_and_wait(
            dead_letter_topic(record.topic),
            value=record.value,
            key=record.key,
            headers=headers + origin,
        )
        await conn.execute(
            self.tables.dead_letters.insert().values(
                consumer_group=self.spec.group_id,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                event_id=envelope.id if envelope else _header(headers, "ce_id"),
                event_type=envelope.type if envelope else _header(headers, "ce_type"),
                error=error,
                key=record.key,
                value=record.value,
                headers=_headers_json(headers),
            )
        )
        self._count(record, "dead_lettered")
        log.error(
            "dead_lettered",
            group=self.spec.group_id,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=error,
        )

    def _count(self, record: ConsumerRecord, outcome: str) -> None:
        CONSUMED.labels(self.spec.group_id, record.topic, outcome).inc()
        if outcome == "applied":
            self.stats.applied += 1
        elif outcome == "duplicate":
            self.stats.duplicates += 1
        elif outcome == "ignored":
            self.stats.ignored += 1
        else:
            self.stats.dead_lettered += 1


def _header(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == name and value is not None:
            return value.decode(errors="replace")
    return None


def _headers_json(headers: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
    return {k: (v.decode(errors="replace") if v is not None else None) for k, v in headers}
