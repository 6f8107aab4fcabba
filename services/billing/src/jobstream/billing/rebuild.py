"""Rebuild the billing projection from offset zero into a new generation, verify, switch.

The active generation keeps serving and deciding throughout. The new one reads every input
topic and billing's own topic from the beginning up to the end offsets noted at the start
(billing's first, so every recorded document's inputs are inside the snapshot), re-prices
every recorded invoice from its facts and the pricing versions it names and compares the
bytes, and only then becomes the active generation (docs/adr/0043).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobstream.billing.db import generations, queries
from jobstream.billing.db.generations import Generation
from jobstream.billing.db.tables import consumer_tables
from jobstream.billing.domain.documents import Party, build_invoice
from jobstream.billing.domain.history import fold_history, trigger_of
from jobstream.billing.domain.pricing import (
    JobFacts,
    NotChargeable,
    PricingBlockedError,
    PricingConfig,
    Technician,
    price_job,
)
from jobstream.billing.worker import INPUT_TOPICS, runner_for
from jobstream.contracts.base import registry
from jobstream.contracts.billing import InvoiceIssued
from jobstream.contracts.common import WorkOrderDetails
from jobstream.contracts.dispatch import TechnicianProfile
from jobstream.contracts.topics import namespaced

log = structlog.get_logger(__name__)


def canonical(document: Any) -> bytes:
    """The bytes two documents must share to be "the same invoice"."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class RebuildReport:
    """What a rebuild did."""

    generation: int
    events: int = 0
    seconds: float = 0.0
    verified: int = 0
    drift: list[dict[str, str]] = field(default_factory=list)
    switched: bool = False

    @property
    def events_per_second(self) -> float:
        """Records consumed per second of catch-up."""
        return self.events / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        """For the generations table and the command's output."""
        return {**asdict(self), "events_per_second": round(self.events_per_second, 1)}


async def end_offsets(bootstrap_servers: str, topic_names: list[str]) -> dict[TopicPartition, int]:
    """Each partition's end offset now, topic by topic in the order given."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics(topic_names)}
    finally:
        await admin.close()
    ends: dict[TopicPartition, int] = {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        for topic in topic_names:
            partitions = described.get(topic, {}).get("partitions") or []
            if not partitions:
                raise LookupError(f"topic {topic} does not exist: nothing to rebuild from")
            tps = [TopicPartition(topic, p["partition"]) for p in partitions]
            consumer.assign(tps)
            ends.update(await consumer.end_offsets(tps))
        return ends
    finally:
        # A group-less consumer stopped right after start can surface the cancellation
        # of its internal committed-offset task; nothing of ours was cancelled.
        current = asyncio.current_task()
        try:
            await consumer.stop()
        except asyncio.CancelledError:
            if current is not None and current.cancelling():
                raise


async def _caught_up(conn: AsyncConnection, group: str, ends: dict[TopicPartition, int]) -> bool:
    t = consumer_tables.offsets
    rows = await conn.execute(
        select(t.c.topic, t.c.partition, t.c.next_offset).where(t.c.consumer_group == group)
    )
    stored = {TopicPartition(r.topic, r.partition): r.next_offset for r in rows}
    return all(stored.get(tp, 0) >= end for tp, end in ends.items() if end > 0)


async def catch_up(
    engine: AsyncEngine,
    generation: Generation,
    *,
    bootstrap_servers: str,
    namespace: str,
    timeout_s: float,
    batch_size: int = 500,
) -> tuple[int, float]:
    """Consume into ``generation`` until the end offsets noted now; (records, seconds)."""
    names = [namespaced(t, namespace) for t in INPUT_TOPICS]
    ends = await end_offsets(bootstrap_servers, names)
    runner = runner_for(
        engine,
        generation,
        bootstrap_servers=bootstrap_servers,
        namespace=namespace,
        batch_size=batch_size,
        decide=False,
    )
    scoped = generations.engine_for(engine, generation)
    started = time.perf_counter()
    task = asyncio.create_task(runner.run(), name=f"rebuild-g{generation.number}")
    try:
        deadline = started + timeout_s
        while True:
            if task.done():
                task.result()
                raise RuntimeError("the rebuild consumer stopped early")
            async with scoped.connect() as conn:
                if await _caught_up(conn, runner.spec.group_id, ends):
                    break
            if time.perf_counter() > deadline:
                raise TimeoutError(f"rebuild did not catch up within {timeout_s}s")
            await asyncio.sleep(0.5)
        return sum(ends.values()), time.perf_counter() - started
    finally:
        runner.stop()
        await asyncio.wait_for(task, timeout=60)


async def reprice(conn: AsyncConnection, recorded: InvoiceIssued) -> InvoiceIssued:
    """The invoice priced again from the generation's facts and the versions it names."""
    basis = recorded.pricing_basis
    if basis is None:
        raise PricingBlockedError("no pricing basis recorded")
    seq = await queries.field_fact_seq(conn, basis.trigger_event_id)
    if seq is None:
        raise PricingBlockedError(f"trigger {basis.trigger_event_id} not in the log")
    rows = await queries.field_facts_until(conn, recorded.work_order_id, seq)
    parsed = [(i, registry.parse(k, registry.current_version(k), dict(d))) for i, k, d in rows]
    history = fold_history(parsed)
    details = await queries.details_by_event(conn, basis.details_event_id)
    card = await queries.rate_card_version(conn, basis.rate_card_version)
    if history.outcome is None or details is None or card is None:
        raise PricingBlockedError("outcome, details or rate card missing")
    profiles = await queries.profiles_by_event(conn, list(basis.technician_profile_event_ids))
    contract = None
    if basis.contract_id and basis.contract_version:
        contract = await queries.contract_version(conn, basis.contract_id, basis.contract_version)
    pairs = [(e.rsplit("@", 1)[0], int(e.rsplit("@", 1)[1])) for e in basis.price_book_entries]
    facts = JobFacts(
        work_order_id=recorded.work_order_id,
        details_event_id=basis.details_event_id,
        details=WorkOrderDetails.model_validate(details),
        outcome=history.outcome,
        trigger=trigger_of(*parsed[-1]),
        labour=history.labour,
        materials=history.materials,
        technicians={
            tech: Technician(event_id, TechnicianProfile.model_validate(profile))
            for tech, (event_id, profile) in profiles.items()
        },
    )
    config = PricingConfig(
        rate_card=card,
        contract=contract,
        price_book=await queries.price_book_versions(conn, pairs),
    )
    priced = price_job(facts, config)
    if isinstance(priced, NotChargeable):
        raise PricingBlockedError(priced.reason)
    return build_invoice(
        priced,
        Party.of(facts),
        number=int(recorded.invoice_number.rsplit("-", 1)[1]),
        issued_at=facts.trigger.at,
        replaces_invoice_id=recorded.replaces_invoice_id,
    )


async def verify(engine: AsyncEngine, generation: Generation) -> tuple[int, list[dict[str, str]]]:
    """Re-price every recorded invoice and compare bytes; (verified, drift)."""
    scoped = generations.engine_for(engine, generation)
    drift: list[dict[str, str]] = []
    verified = 0
    async with scoped.connect() as conn:
        for document in await queries.invoice_documents(conn):
            recorded = InvoiceIssued.model_validate(document)
            try:
                again = await reprice(conn, recorded)
            except (PricingBlockedError, KeyError, ValueError) as exc:
                drift.append({"invoice": recorded.invoice_number, "problem": str(exc)})
                continue
            if canonical(again.model_dump(mode="json")) != canonical(document):
                drift.append({"invoice": recorded.invoice_number, "problem": "re-priced differs"})
            else:
                verified += 1
    return verified, drift


async def rebuild(
    engine: AsyncEngine,
    *,
    bootstrap_servers: str,
    namespace: str = "",
    switch: bool = True,
    allow_drift: bool = False,
    timeout_s: float = 3600.0,
    batch_size: int = 500,
    before_switch: Callable[[Generation], Awaitable[None]] | None = None,
) -> RebuildReport:
    """Build a new generation from offset zero; switch to it unless verification failed."""
    generation = await generations.create(engine)
    report = RebuildReport(generation.number)
    log.info("rebuild_started", generation=generation.number, schema=generation.schema)
    report.events, report.seconds = await catch_up(
        engine,
        generation,
        bootstrap_servers=bootstrap_servers,
        namespace=namespace,
        timeout_s=timeout_s,
        batch_size=batch_size,
    )
    report.verified, report.drift = await verify(engine, generation)
    if before_switch is not None:
        await before_switch(generation)
    async with engine.begin() as conn:
        if report.drift and not allow_drift:
            await generations.mark(conn, generation.number, "failed", report.as_dict())
        elif switch:
            await generations.activate(conn, generation.number, report.as_dict())
            report.switched = True
        else:
            await generations.mark(conn, generation.number, "ready", report.as_dict())
    log.info("rebuild_finished", **report.as_dict())
    return report
