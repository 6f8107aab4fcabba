"""Faults for a simulated day.

A private Kafka and PostgreSQL (deploy/local/stack.sh with its instance variables) that can
be restarted without touching anyone else's, SIGKILLed services, and duplicated or malformed
messages written straight into the topics.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from jobstream.contracts import topics
from jobstream.contracts.topics import namespaced
from jobstream.simulation.api import SERVICES, Api
from jobstream.simulation.processes import ServiceStack, free_port
from jobstream.simulation.runner import Outcome, simulate
from jobstream.simulation.scenario import Sizes
from jobstream.testing.infra import Infra, repo_root

# Which services consume which topic (their consumers' specs; billing's worker keeps its
# dead letters in its projection generation, which `jobstream-billing dead-letters` does not
# list, so billing is checked through its invoices instead).
CONSUMERS = {
    topics.INTAKE: ("dispatch", "fieldupdates", "reporting"),
    topics.FIELD: ("intake", "dispatch", "reporting"),
}


@dataclass
class PrivateInfra:
    """A Kafka broker and a PostgreSQL cluster of our own, on free ports, state in ``home``."""

    home: Path
    cluster: str = field(default_factory=lambda: f"jsfault{uuid.uuid4().hex[:6]}")
    kafka_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    pg_port: int = field(default_factory=free_port)

    @property
    def env(self) -> dict[str, str]:
        """stack.sh's instance variables."""
        return {
            **os.environ,
            "JOBSTREAM_STACK_RUN": str(self.home / "run"),
            "JOBSTREAM_KAFKA_PORT": str(self.kafka_port),
            "JOBSTREAM_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "JOBSTREAM_PG_CLUSTER": self.cluster,
            "JOBSTREAM_PG_PORT": str(self.pg_port),
        }

    def stack(self, *args: str) -> float:
        """Run ``stack.sh args`` on this instance; answers the seconds it took."""
        started = time.monotonic()
        subprocess.run(
            ["bash", str(repo_root() / "deploy/local/stack.sh"), *args],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.monotonic() - started

    def up(self) -> Infra:
        """Start both; answers where they are."""
        self.stack("infra-up")
        return Infra(
            bootstrap_servers=f"127.0.0.1:{self.kafka_port}",
            pg_admin_url=f"postgresql://jobstream:jobstream@127.0.0.1:{self.pg_port}/postgres",
            origin="private",
        )

    def purge(self) -> None:
        """Stop both and delete their data (the cluster is dropped)."""
        self.stack("down", "--purge")


@dataclass
class Injected:
    """Records written behind the services' backs."""

    duplicates: int = 0
    malformed: set[str] = field(default_factory=set)  # topic:partition@offset
    malformed_by_topic: dict[str, set[str]] = field(default_factory=dict)


async def inject(bootstrap: str, namespace: str, duplicates_per_topic: int = 15) -> Injected:
    """Re-publish the first records of the intake and field topics, and add malformed ones.

    The records are re-published as they were (a relay that published twice); each topic
    also gets one malformed record of each kind (bad JSON; no CloudEvents headers).
    """
    injected = Injected()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for base in (topics.INTAKE, topics.FIELD):
            name = namespaced(base, namespace)
            consumer = AIOKafkaConsumer(
                bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
            )
            await consumer.start()
            try:
                # The consumer's metadata may not hold the topic yet; the producer's
                # partitions_for waits for it, so every partition is read (partition 0
                # alone can be empty on a small day).
                numbers = await producer.partitions_for(name)
                partitions = [TopicPartition(name, p) for p in sorted(numbers)]
                consumer.assign(partitions)
                await consumer.seek_to_beginning(*partitions)
                # One fetch can come back empty (the first answer after a seek, a busy
                # broker): read until there are enough records or the topic has no more.
                records: list[ConsumerRecord] = []
                deadline = time.monotonic() + 60
                while len(records) < duplicates_per_topic and time.monotonic() < deadline:
                    batch = await consumer.getmany(
                        timeout_ms=3000, max_records=duplicates_per_topic - len(records)
                    )
                    fetched = [r for rs in batch.values() for r in rs]
                    if not fetched and records:
                        break
                    records += fetched
            finally:
                await consumer.stop()
            for record in records:
                await producer.send_and_wait(
                    name,
                    value=record.value,
                    key=record.key,
                    headers=list(record.headers),
                    partition=record.partition,
                )
                injected.duplicates += 1
            # A type every consumer of the topic handles: a consumer skips a type it has no
            # handler for by the header alone, before it reads the body.
            handled = b"JobCompleted" if base == topics.FIELD else b"WorkOrderCancelled"
            bad = [
                (
                    b"{not json",
                    [
                        ("ce_id", str(uuid.uuid4()).encode()),
                        ("ce_type", handled),
                        ("ce_source", b"jobstream/chaos"),
                        ("ce_specversion", b"1.0"),
                        ("content-type", b"application/json"),
                    ],
                ),
                (b'{"work_order_id": "wo-chaos"}', []),
            ]
            where: set[str] = set()
            for value, headers in bad:
                meta = await producer.send_and_wait(
                    name, value=value, key=b"wo-chaos", headers=headers
                )
                where.add(f"{name}:{meta.partition}@{meta.offset}")
            injected.malformed |= where
            injected.malformed_by_topic[base] = where
    finally:
        await producer.stop()
    return injected


async def ready_after(api: Api, started: float, timeout_s: float = 120.0) -> float:
    """Seconds from ``started`` until every service answers /readyz again."""
    await api.wait_ready(timeout_s)
    return time.monotonic() - started


async def kill_each_service(stack: ServiceStack, api: Api) -> dict[str, float]:
    """SIGKILL each service in turn, start it again, and time its way back to ready."""
    recovery: dict[str, float] = {}
    for service in SERVICES:
        stack.kill(service)
        started = time.monotonic()
        stack.start(service)
        recovery[service] = await ready_after(api, started)
    return recovery


async def restart_infra(private: PrivateInfra, api: Api) -> dict[str, float]:
    """Restart the broker, then PostgreSQL, under the running services."""
    recovery: dict[str, float] = {}
    for what in ("kafka", "postgresql"):
        started = time.monotonic()
        await asyncio.to_thread(private.stack, "restart", what)
        recovery[what] = await ready_after(api, started)
    return recovery


def dead_letter_differences(stack: ServiceStack, injected: Injected) -> list[str]:
    """Each consuming service holds exactly the malformed records injected into its topics."""
    problems = []
    for service in ("intake", "dispatch", "fieldupdates", "reporting"):
        want = set().union(
            *(
                where
                for base, where in injected.malformed_by_topic.items()
                if service in CONSUMERS[base]
            )
        )
        have = {row[2] for row in stack.dead_letters(service)}
        if have != want:
            problems.append(f"{service} dead letters: have {sorted(have)}, want {sorted(want)}")
    return problems


@dataclass
class FaultyDay:
    """A simulated day run through faults, and what recovery took."""

    outcome: Outcome
    recovery_seconds: dict[str, float]
    injected: Injected
    dead_letter_problems: list[str]

    @property
    def ok(self) -> bool:
        """Every invariant held and every fault was applied and recovered from.

        Also, the dead letters are exactly the malformed records.
        """
        return (
            self.outcome.report.ok
            and set(self.recovery_seconds) == {*SERVICES, "kafka", "postgresql"}
            and self.injected.duplicates > 0
            and not self.dead_letter_problems
        )

    def problems(self) -> list[str]:
        """Why ``ok`` is false, in words."""
        missing = {*SERVICES, "kafka", "postgresql"} - set(self.recovery_seconds)
        return [
            *self.outcome.report.failures,
            *(f"fault not applied or not recovered from: {m}" for m in sorted(missing)),
            *self.dead_letter_problems,
        ]


async def day_with_faults(
    home: Path,
    *,
    seed: int,
    sizes: Sizes,
    tag: str,
    timeout_s: float,
    log: Callable[[str], None] = print,
) -> FaultyDay:
    """On a private Kafka and PostgreSQL under ``home``: start five services, run the day.

    Between its office rounds, inject duplicated and malformed records and SIGKILL each
    service in turn (after round one), then restart the broker and PostgreSQL (after round
    two). The private instance is purged afterwards.
    """
    private = PrivateInfra(home / "infra")
    recovery: dict[str, float] = {}
    injected: list[Injected] = []
    try:
        infra = private.up()
        stack = ServiceStack(infra, home / "logs")
        api: Api | None = None
        try:
            await stack.create()
            stack.start_all()
            api = Api(stack.urls, retry_for_s=timeout_s)

            async def faults(wave: int) -> None:
                assert api is not None
                if wave == 0:
                    log("faults: injecting duplicated and malformed records")
                    injected.append(await inject(infra.bootstrap_servers, stack.namespace))
                    log("faults: SIGKILL each service in turn")
                    recovery.update(await kill_each_service(stack, api))
                elif wave == 1:
                    log("faults: restarting Kafka, then PostgreSQL")
                    recovery.update(await restart_infra(private, api))

            outcome = await simulate(
                api,
                seed=seed,
                sizes=sizes,
                tag=tag,
                exclusive=True,
                timeout_s=timeout_s,
                between_waves=faults,
                log=log,
            )
            done = injected[0] if injected else Injected()
            problems = dead_letter_differences(stack, done) if injected else ["nothing injected"]
            return FaultyDay(outcome, recovery, done, problems)
        finally:
            if api is not None:
                await api.close()
            await stack.destroy()
    finally:
        private.purge()
