"""The consume role's worker: run the active generation's consumer and follow switches.

It sweeps jobs whose trigger is unanswered before starting the consumer (a generation that
was building decided nothing) and now and then afterwards (jobs blocked on configuration
or waiting for an input), and restarts on the new generation when a rebuild switches.
"""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import suppress

import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from jobstream.billing import policies
from jobstream.billing.db import generations, queries
from jobstream.billing.db.generations import Generation
from jobstream.billing.db.tables import consumer_tables
from jobstream.billing.handlers import evaluate
from jobstream.contracts import topics
from jobstream.contracts.topics import namespaced
from jobstream.eventstore.store import ConcurrencyError
from jobstream.messaging.consumer import ConsumerRunner, ConsumerSpec
from jobstream.messaging.reactions import handlers_by_event

log = structlog.get_logger(__name__)

INPUT_TOPICS = (topics.BILLING, topics.INTAKE, topics.TECHNICIANS, topics.FIELD)


def consumer_spec(generation: int, namespace: str = "", *, decide: bool = True) -> ConsumerSpec:
    """``billing.projector.g<N>``: its own group, offsets and processed ids per generation."""
    return ConsumerSpec(
        group_id=namespaced(f"billing.projector.g{generation}", namespace),
        topics=tuple(namespaced(t, namespace) for t in INPUT_TOPICS),
        handlers=handlers_by_event(
            *policies.REACTIONS, context=policies.BillingRun(generation, decide)
        ),
    )


def runner_for(
    engine: AsyncEngine,
    generation: Generation,
    *,
    bootstrap_servers: str,
    namespace: str = "",
    batch_size: int = 200,
    decide: bool = True,
) -> ConsumerRunner:
    """A consumer runner writing into ``generation``'s schema."""
    return ConsumerRunner(
        consumer_spec(generation.number, namespace, decide=decide),
        generations.engine_for(engine, generation),
        consumer_tables,
        bootstrap_servers=bootstrap_servers,
        batch_size=batch_size,
    )


async def sweep(engine: AsyncEngine, generation: Generation, *, lock_timeout_ms: int = 0) -> int:
    """Answer every unanswered trigger of ``generation``; returns how many documents.

    Each job in its own transaction. With ``lock_timeout_ms`` (while the consumer runs) a
    job whose lock is held is left for the next sweep rather than waited for.
    """
    issued = 0
    scoped = generations.engine_for(engine, generation)
    async with scoped.connect() as conn:
        pending = await queries.jobs_needing_evaluation(conn, limit=100_000)
    for work_order_id in pending:
        try:
            async with scoped.begin() as conn:
                if lock_timeout_ms:
                    await conn.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
                issued += len(await evaluate(conn, work_order_id, generation.number))
        except (ConcurrencyError, DBAPIError) as exc:
            log.info("sweep_deferred", work_order_id=work_order_id, error=repr(exc))
    if issued:
        log.info("sweep_issued", generation=generation.number, documents=issued)
    return issued


@dataclasses.dataclass
class GenerationWorker:
    """Runs the active generation's consumer for as long as it stays active."""

    engine: AsyncEngine
    bootstrap_servers: str
    namespace: str = ""
    poll_s: float = 2.0
    sweep_every_s: float = 30.0
    name: str = "billing.projector"
    runner: ConsumerRunner | None = None
    generation: Generation | None = None
    _stopping: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    @property
    def ready(self) -> bool:
        """Ready once the active generation's consumer has its partitions."""
        return self.runner is not None and self.runner.ready

    def stop(self) -> None:
        """Finish the current batch and return from run()."""
        self._stopping.set()
        if self.runner is not None:
            self.runner.stop()

    async def run(self) -> None:
        """Serve the active generation; restart on the new one after a switch."""
        while not self._stopping.is_set():
            try:
                await self._serve_one_generation()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("billing_worker_restart", error=repr(exc))
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.poll_s)

    async def _serve_one_generation(self) -> None:
        generation = await generations.ensure_active(self.engine)
        self.generation = generation
        await sweep(self.engine, generation)
        runner = runner_for(
            self.engine,
            generation,
            bootstrap_servers=self.bootstrap_servers,
            namespace=self.namespace,
        )
        self.runner = runner
        task = asyncio.create_task(runner.run(), name=f"billing-g{generation.number}")
        log.info("billing_generation_serving", generation=generation.number)
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + self.sweep_every_s
        try:
            while not self._stopping.is_set():
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.poll_s)
                if task.done():
                    task.result()
                async with self.engine.connect() as conn:
                    current = await generations.active(conn)
                if current is None or current.number != generation.number:
                    log.info("billing_generation_switched", to=current and current.number)
                    return
                if loop.time() >= next_sweep:
                    await sweep(self.engine, generation, lock_timeout_ms=500)
                    next_sweep = loop.time() + self.sweep_every_s
        finally:
            runner.stop()
            with suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=30)
            self.runner = None
