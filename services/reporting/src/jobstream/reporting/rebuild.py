"""`jobstream-reporting rebuild`: projections recomputed into new tables, then switched to.

Projections are recomputed from zero into new tables while the old ones keep serving, then
switched over to in one short transaction (docs/adr/0051, 0054).

From the log (`rebuild [jobs] [technicians]`): the new tables ``<name>_rebuild`` are folded
subject by subject from reporting's event log; then, with inserts into the log held back
for a moment, every subject whose event count differs from what was folded (events that
arrived meanwhile) is folded again, and the tables are swapped by renaming.

From Kafka (`rebuild --from-kafka`), for when the event log itself is in doubt: a whole new
generation (the event log, every projection and the processed-event ids) is filled by
reading every partition of every topic from offset zero, outside any consumer group; then,
with the live projector held at its offset rows, the new generation reads on to at least
where the live one had got, the tables are swapped, and the live projector's stored offsets
are moved to where the new generation stopped, so it carries on from there.

Readers see the old tables until the switch commits and the new ones after it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import quoted_name

from jobstream.messaging.consumer import ConsumerSpec, ConsumerTables, is_transient
from jobstream.messaging.envelope import Envelope, MalformedMessageError, from_kafka
from jobstream.reporting.db import queries
from jobstream.reporting.db import rebuild_queries as q
from jobstream.reporting.db.tables import LIVE, REBUILDABLE, Generation
from jobstream.reporting.projections import log_values, project_batch, refold

log = structlog.get_logger(__name__)
SUFFIX = "_rebuild"
PROJECTIONS = tuple(REBUILDABLE)


@dataclass(frozen=True)
class RebuildReport:
    """What one projection's rebuild from the log did."""

    projection: str
    events: int
    rows: int
    caught_up: int
    seconds: float
    switch_seconds: float

    @property
    def events_per_second(self) -> float:
        """Events folded per second over the whole rebuild."""
        return self.events / self.seconds if self.seconds else 0.0


def shadow_of(table: Table, metadata: MetaData | None = None) -> Table:
    """``<table>_rebuild`` with the same columns and suffixed index and constraint names."""
    shadow = table.to_metadata(metadata or MetaData(), name=table.name + SUFFIX)
    for index in shadow.indexes:
        index.name = quoted_name(f"{index.name}{SUFFIX}", None)
    for constraint in shadow.constraints:
        if isinstance(constraint.name, str):
            constraint.name = quoted_name(f"{constraint.name}{SUFFIX}", None)
    return shadow


def shadow_generation(names: Iterable[str]) -> Generation:
    """The live generation with the named tables (Generation fields) replaced by shadows."""
    metadata = MetaData()
    tables = LIVE.tables()
    for name in names:
        tables[name] = shadow_of(tables[name], metadata)
    return Generation(**tables)


async def create_shadows(engine: AsyncEngine, shadows: Sequence[Table]) -> None:
    """(Re)create empty shadow tables; a rebuild that died earlier left them behind."""
    async with engine.begin() as conn:
        for shadow in shadows:
            await conn.execute(text(f'DROP TABLE IF EXISTS "{shadow.name}"'))
            await conn.run_sync(shadow.create)


async def swap(conn: AsyncConnection, live: Table, shadow: Table) -> None:
    """Drop ``live`` and give ``shadow`` its name and those of its indexes, constraints, sequences.

    So the layout is what the migrations made.
    """

    def target(name: str) -> str:
        if name.endswith(SUFFIX):
            return name.removesuffix(SUFFIX)
        return name.replace(shadow.name, live.name, 1)

    indexes = await q.index_names(conn, shadow.name)
    sequences = await q.owned_sequences(conn, shadow.name)
    await conn.execute(text(f'DROP TABLE "{live.name}"'))
    await conn.execute(text(f'ALTER TABLE "{shadow.name}" RENAME TO "{live.name}"'))
    for index in indexes:
        await conn.execute(text(f'ALTER INDEX "{index}" RENAME TO "{target(index)}"'))
    for sequence in sequences:
        await conn.execute(text(f'ALTER SEQUENCE "{sequence}" RENAME TO "{target(sequence)}"'))


async def fold_all(
    engine: AsyncEngine, gen: Generation, projections: Sequence[str], chunk: int = 500
) -> tuple[int, int]:
    """Fold every subject of the projections from ``gen``'s log into ``gen``; (events, rows)."""
    events = rows = 0
    for name in projections:
        async with engine.connect() as conn:
            counts = await q.event_counts(conn, gen.event_log, name)
        subjects = sorted(counts)
        for i in range(0, len(subjects), chunk):
            part = subjects[i : i + chunk]
            async with engine.begin() as conn:
                if name == "jobs":
                    await refold(conn, part, [], gen)
                else:
                    await refold(conn, [], part, gen)
        events += sum(counts.values())
        rows += len(subjects)
    return events, rows


async def rebuild(engine: AsyncEngine, name: str, *, chunk: int = 500) -> RebuildReport:
    """Rebuild one projection from the event log and switch readers over to it."""
    names = REBUILDABLE[name]
    gen = shadow_generation(names)
    shadows = [getattr(gen, n) for n in names]
    started = time.perf_counter()
    await create_shadows(engine, shadows)
    events, rows = await fold_all(engine, gen, [name], chunk)
    log.info("rebuild_filled", projection=name, events=events, rows=rows)
    switch_started = time.perf_counter()
    async with engine.begin() as conn:
        # Holds back the projector's inserts into the log (readers carry on) so that the
        # catch-up below sees every event there will be until the switch commits.
        await conn.execute(text(f'LOCK TABLE "{LIVE.event_log.name}" IN SHARE ROW EXCLUSIVE MODE'))
        stale = await q.stale_subjects(conn, gen, name)
        for i in range(0, len(stale), chunk):
            part = stale[i : i + chunk]
            await (refold(conn, part, [], gen) if name == "jobs" else refold(conn, [], part, gen))
        for n in names:
            await swap(conn, getattr(LIVE, n), getattr(gen, n))
    finished = time.perf_counter()
    report = RebuildReport(
        name, events, rows, len(stale), finished - started, finished - switch_started
    )
    log.info("rebuild_switched", projection=name, caught_up=len(stale), seconds=report.seconds)
    return report


# ---------------------------------------------------------------------------------------
# from Kafka


@dataclass
class KafkaRebuildReport:
    """What a rebuild from Kafka did."""

    records: int = 0
    events: int = 0
    duplicates: int = 0
    skipped: int = 0  # malformed, of an unknown type, or failing to fold (see the log)
    caught_up: int = 0
    seconds: float = 0.0
    switch_seconds: float = 0.0
    offsets: dict[str, int] = field(default_factory=dict)

    @property
    def records_per_second(self) -> float:
        """Records read and applied per second over the whole rebuild."""
        return self.records / self.seconds if self.seconds else 0.0


class _Generation:
    """Applies records read from Kafka to a new generation.

    It tracks where each partition has got to.
    """

    def __init__(self, gen: Generation, processed: Table, spec: ConsumerSpec) -> None:
        self.gen = gen
        self.processed = processed
        self.group = spec.group_id
        self.handled = frozenset(spec.handlers)
        self.position: dict[TopicPartition, int] = {}
        self.report = KafkaRebuildReport()

    def decode(self, records: Iterable[ConsumerRecord]) -> list[Envelope]:
        """The records' envelopes; malformed ones and unknown types are skipped.

        As the live projector dead-letters or ignores them.
        """
        out = []
        for record in records:
            self.report.records += 1
            try:
                envelope = from_kafka(record.key, record.value, list(record.headers or ()))
            except MalformedMessageError:
                self.report.skipped += 1
                continue
            if envelope.type not in self.handled:
                self.report.skipped += 1
                continue
            out.append(envelope)
        return out

    async def apply(
        self, conn: AsyncConnection, envelopes: Sequence[Envelope], *, fold: bool
    ) -> None:
        """Record the envelopes' ids and log them (and refold what they touch if ``fold``).

        An event that cannot be projected is skipped with its id left unrecorded, so a
        re-drive of the live projector's dead letter applies it after a fix.
        """
        try:
            async with conn.begin_nested():
                applied = await self._apply(conn, envelopes, fold=fold)
        except Exception as exc:
            if is_transient(exc):
                raise
            log.warning("rebuild_batch_failed_one_by_one", error=repr(exc))
        else:
            self.report.events += applied
            self.report.duplicates += len(envelopes) - applied
            return
        for envelope in envelopes:
            try:
                async with conn.begin_nested():
                    applied = await self._apply(conn, [envelope], fold=fold)
            except Exception as exc:
                if is_transient(exc):
                    raise
                self.report.skipped += 1
                log.error("rebuild_event_skipped", event_id=envelope.id, error=repr(exc))
            else:
                self.report.events += applied
                self.report.duplicates += 1 - applied

    async def _apply(
        self, conn: AsyncConnection, envelopes: Sequence[Envelope], *, fold: bool
    ) -> int:
        """Apply the envelopes not seen before (the first copy of each); how many."""
        fresh = await q.mark_processed(conn, self.processed, self.group, [e.id for e in envelopes])
        batch = []
        for envelope in envelopes:
            if envelope.id in fresh:
                fresh.discard(envelope.id)
                batch.append(envelope)
        if batch:
            await self._project(conn, batch, fold=fold)
        return len(batch)

    async def _project(self, conn: AsyncConnection, batch: list[Envelope], *, fold: bool) -> None:
        if fold:
            await project_batch(conn, batch, self.gen)
        else:
            await queries.record_events(conn, self.gen.event_log, [log_values(e) for e in batch])


async def _read(
    consumer: AIOKafkaConsumer,
    engine_or_conn: AsyncEngine | AsyncConnection,
    target: _Generation,
    until: dict[TopicPartition, int],
    *,
    fold: bool,
    batch_size: int,
) -> None:
    """Read every partition from its position until it reaches ``until``, applying as it goes."""

    def behind() -> list[TopicPartition]:
        return [tp for tp, end in until.items() if target.position.get(tp, 0) < end]

    while waiting := behind():
        batches = await consumer.getmany(*waiting, timeout_ms=1000, max_records=batch_size)
        records = [r for recs in batches.values() for r in recs]
        envelopes = target.decode(records)
        if isinstance(engine_or_conn, AsyncConnection):
            await target.apply(engine_or_conn, envelopes, fold=fold)
        else:
            async with engine_or_conn.begin() as conn:
                await target.apply(conn, envelopes, fold=fold)
        for tp in waiting:
            target.position[tp] = await consumer.position(tp)


async def rebuild_from_kafka(
    engine: AsyncEngine,
    spec: ConsumerSpec,
    consumer_tables: ConsumerTables,
    *,
    bootstrap_servers: str,
    batch_size: int = 5000,
    chunk: int = 500,
    switch_timeout_s: float = 120.0,
) -> KafkaRebuildReport:
    """Rebuild every table of reporting from the topics of ``spec`` and switch to it.

    The live projector (``spec.group_id``) carries on from where the rebuild stopped.
    """
    started = time.perf_counter()
    gen = shadow_generation(LIVE.tables())
    processed = shadow_of(consumer_tables.processed, gen.event_log.metadata)
    await create_shadows(engine, [*gen.tables().values(), processed])
    target = _Generation(gen, processed, spec)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        client_id=f"{spec.group_id}.rebuild",
    )
    await consumer.start()
    try:
        partitions = await _partitions(bootstrap_servers, spec.topics)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        target.position = {tp: 0 for tp in partitions}
        # 1. The log as it stands, without folding; then every subject folded once.
        ends = await consumer.end_offsets(partitions)
        await _read(consumer, engine, target, ends, fold=False, batch_size=batch_size)
        await fold_all(engine, gen, PROJECTIONS, chunk)
        # 2. What arrived meanwhile, folded as the live projector folds it.
        ends = await consumer.end_offsets(partitions)
        await _read(consumer, engine, target, ends, fold=True, batch_size=batch_size)
        log.info("rebuild_from_kafka_filled", records=target.report.records)
        # 3. The switch.
        switch_started = time.perf_counter()
        before = target.report.records
        async with engine.begin() as conn:
            # Locking the live projector's offset rows holds it at the start of its next
            # batch (it locks its row first); rows for partitions it has not seen yet are
            # made, so that a first record there waits too.
            live = await q.lock_offsets(conn, consumer_tables.offsets, spec.group_id, partitions)
            # The live projector waits meanwhile: give up (and roll back) rather than hold it
            # for long if Kafka stalls; rerunning starts over.
            async with asyncio.timeout(switch_timeout_s):
                await _read(consumer, conn, target, live, fold=True, batch_size=batch_size)
            await q.carry_other_groups(conn, consumer_tables.processed, processed, spec.group_id)
            for name, table in LIVE.tables().items():
                await swap(conn, table, getattr(gen, name))
            await swap(conn, consumer_tables.processed, processed)
            await q.store_offsets(conn, consumer_tables.offsets, spec.group_id, target.position)
        finished = time.perf_counter()
    finally:
        await consumer.stop()
    report = target.report
    report.caught_up = report.records - before
    report.seconds = finished - started
    report.switch_seconds = finished - switch_started
    report.offsets = {f"{tp.topic}:{tp.partition}": o for tp, o in target.position.items()}
    log.info("rebuild_from_kafka_switched", records=report.records, seconds=report.seconds)
    return report


async def _partitions(bootstrap_servers: str, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of the topics (a producer is the aiokafka client that looks them up)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        out = []
        for topic in topics:
            out += [TopicPartition(topic, p) for p in sorted(await producer.partitions_for(topic))]
        return out
    finally:
        await producer.stop()
