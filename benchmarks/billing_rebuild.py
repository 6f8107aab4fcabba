"""Billing's rebuild rate over a million events, beside the raw consume rate of the same topics.

    bash deploy/local/test.sh --co -q >/dev/null   # or: make infra-up (Kafka + PostgreSQL)
    uv run python benchmarks/billing_rebuild.py --events 1000000

Generates realistic job stories (technicians registered; per job: request, release, device
progress, travel and labour time, parts, checklist answers, a note, completion and the
invoice billing issued for it, priced by billing's own code) straight to a fresh namespace
of topics with an idempotent, batched producer. Then, in one run: (1) a plain aiokafka
consumer reads every record of billing's four input topics (raw consume rate); (2) the
same with CloudEvents decoding and contract validation; (3) `rebuild` consumes the same
topics from offset zero into a new projection generation (rebuild rate), (4) re-prices
every recorded invoice and compares bytes (verification rate). The namespace's topics and
database are deleted at the end. Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from report import write_section

from jobstream.billing.db import generations, queries
from jobstream.billing.domain.documents import Party, build_invoice
from jobstream.billing.domain.history import fold_history, trigger_of
from jobstream.billing.domain.pricing import (
    JobFacts,
    PricedJob,
    PricingConfig,
    Technician,
    price_job,
)
from jobstream.billing.rebuild import catch_up, end_offsets, verify
from jobstream.billing.worker import INPUT_TOPICS
from jobstream.contracts.base import Event
from jobstream.contracts.common import (
    AnswerType,
    Certification,
    Channel,
    GeoPoint,
    Priority,
    SiteAddress,
    SkillLevel,
    WorkOrderDetails,
)
from jobstream.contracts.dispatch import Shift, TechnicianProfile, TechnicianRegistered
from jobstream.contracts.field import (
    ChecklistAnswer,
    ChecklistItemAnswered,
    JobAcknowledged,
    JobCompleted,
    JobStarted,
    MaterialUsed,
    NoteAdded,
    TechnicianArrived,
    TimeKind,
    TimeLogged,
    TravelStarted,
)
from jobstream.contracts.intake import RequestLogged, WorkOrderReleased
from jobstream.contracts.topics import all_topic_specs, namespaced
from jobstream.db import async_engine, upgrade_to_head
from jobstream.messaging.admin import ensure_topics
from jobstream.messaging.envelope import Envelope, from_kafka, to_kafka
from jobstream.testing.infra import Infra, create_database, drop_database

SKILLS = ("gas_boiler", "plumbing", "hvac", "electrical")
JOB_TYPES = {
    "gas_boiler": "boiler_service",
    "plumbing": "leak_repair",
    "hvac": "hvac_maintenance",
    "electrical": "fault_finding",
}
PARTS = {
    "gas_boiler": ("VALVE-15", "DIVERTER-VALVE", "FILTER-MAG", "INHIBITOR-1L", "PUMP-CIRC"),
    "plumbing": ("VALVE-15", "TRV-15", "PTFE-TAPE", "COPPER-15-M", "PIPE-INSULATION-22"),
    "hvac": ("AHU-FILTER-G4", "REFRIGERANT-R32-KG"),
    "electrical": ("FUSE-13A", "MCB-32A", "RCD-63A"),
}
MANCHESTER = GeoPoint(lat=53.4808, lon=-2.2426)
START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


class Generator:
    """Job stories with stable randomness, invoiced the way billing would invoice them."""

    def __init__(self, config: PricingConfig, technicians: int, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.config = config
        self.number = 0
        self.technicians: dict[str, Technician] = {}
        self.by_skill: dict[str, list[str]] = {s: [] for s in SKILLS}
        self.registrations: list[Envelope] = []
        for i in range(technicians):
            skill = SKILLS[i % len(SKILLS)]
            tech_id = f"tech-{i:03d}"
            profile = TechnicianProfile(
                name=f"Technician {i:03d}",
                skills=(SkillLevel(name=skill, level=1 + i % 5),),
                certifications=(Certification(name="gas_safe", expires_on="2030-01-01"),),
                home_base=MANCHESTER,
                shifts=tuple(Shift(weekday=d, start="08:00", end="16:30") for d in range(5)),
            )
            event = TechnicianRegistered(
                technician_id=tech_id, profile=profile, registered_at=START - timedelta(days=30)
            )
            envelope = Envelope.new(event, source="jobstream/dispatch", sequence=1)
            self.registrations.append(envelope)
            self.technicians[tech_id] = Technician(envelope.id, profile)
            self.by_skill[skill].append(tech_id)

    def job(self, index: int) -> list[Envelope]:
        """One job's envelopes, in lifecycle order."""
        r = self.random
        wo = f"wo-{index:08d}"
        skill = SKILLS[r.randrange(len(SKILLS))]
        tech_id = r.choice(self.by_skill[skill])
        logged = START + timedelta(minutes=7 * index + r.randrange(120))
        priority = r.choice(list(Priority))
        site = SiteAddress(site_id=f"site-{index % 5000}", address="1 High St", location=MANCHESTER)
        customer = f"cust-{index % 2000:04d}"
        details = WorkOrderDetails(
            customer_id=customer,
            customer_name=f"Customer {index % 2000:04d}",
            site=site,
            job_type=JOB_TYPES[skill],
            description="Synthetic job",
            priority=priority,
            required_skills=(skill,),
            estimated_duration_minutes=90,
            respond_by=logged + timedelta(hours=4),
            resolve_by=logged + timedelta(days=1),
        )
        seq = 0

        def wrap(event: Event, source: str) -> Envelope:
            nonlocal seq
            seq += 1
            return Envelope.new(event, source=source, sequence=seq, time=logged)

        out: list[Envelope] = [
            wrap(
                RequestLogged(
                    work_order_id=wo,
                    customer_id=customer,
                    site=site,
                    channel=Channel.PHONE,
                    description="Synthetic job",
                    priority=priority,
                    logged_at=logged,
                    logged_by="office",
                    respond_by=details.respond_by,
                    resolve_by=details.resolve_by,
                ),
                "jobstream/intake",
            ),
            wrap(
                WorkOrderReleased(
                    work_order_id=wo,
                    details=details,
                    released_by="office",
                    released_at=logged + timedelta(minutes=3),
                ),
                "jobstream/intake",
            ),
        ]
        at = logged + timedelta(minutes=30 + r.randrange(240))
        field = {"work_order_id": wo, "technician_id": tech_id}

        def device(minutes: int) -> dict[str, Any]:
            moment = at + timedelta(minutes=minutes)
            return {**field, "device_time": moment, "received_at": moment}

        out += [
            wrap(JobAcknowledged(**device(0)), "jobstream/fieldupdates"),
            wrap(TravelStarted(**device(1)), "jobstream/fieldupdates"),
            wrap(TechnicianArrived(**device(25)), "jobstream/fieldupdates"),
            wrap(JobStarted(**device(27)), "jobstream/fieldupdates"),
        ]
        labour = 15 * r.randint(2, 12)
        work_start = at + timedelta(minutes=27)
        out.append(
            wrap(
                TimeLogged(**device(25), entry_id=f"{wo}-tt", kind=TimeKind.TRAVEL, minutes=24),
                "jobstream/fieldupdates",
            )
        )
        out.append(
            wrap(
                TimeLogged(
                    **device(27 + labour),
                    entry_id=f"{wo}-tl",
                    kind=TimeKind.LABOUR,
                    started_at=work_start,
                    ended_at=work_start + timedelta(minutes=labour),
                    minutes=labour,
                ),
                "jobstream/fieldupdates",
            )
        )
        for n in range(r.randint(0, 2)):
            sku = r.choice(PARTS[skill])
            out.append(
                wrap(
                    MaterialUsed(
                        **device(27 + labour),
                        entry_id=f"{wo}-m{n}",
                        sku=sku,
                        description=sku.replace("-", " ").title(),
                        quantity_milli=1000 * r.randint(1, 3),
                    ),
                    "jobstream/fieldupdates",
                )
            )
        for item in ("safe", "pressure"):
            answer = ChecklistAnswer(answer_type=AnswerType.YES_NO, yes_no=True)
            out.append(
                wrap(
                    ChecklistItemAnswered(
                        **device(28 + labour), template_id="std", item_id=item, answer=answer
                    ),
                    "jobstream/fieldupdates",
                )
            )
        out.append(
            wrap(
                NoteAdded(
                    **device(29 + labour), note_id=f"{wo}-n", text="All working on departure"
                ),
                "jobstream/fieldupdates",
            )
        )
        done = at + timedelta(minutes=30 + labour)
        out.append(
            wrap(
                JobCompleted(
                    **device(30 + labour),
                    customer_id=customer,
                    site_id=site.site_id,
                    job_type=details.job_type,
                    priority=priority,
                    completed_at=done,
                    labour_minutes=labour,
                    work_done="Repaired and tested",
                    first_time_fix=True,
                ),
                "jobstream/fieldupdates",
            )
        )
        out.append(self._invoice(wo, out, details, tech_id))
        return out

    def _invoice(
        self, wo: str, story: list[Envelope], details: WorkOrderDetails, tech_id: str
    ) -> Envelope:
        field = [(e.id, e.data) for e in story if e.source == "jobstream/fieldupdates"]
        history = fold_history(field)
        assert history.outcome is not None
        facts = JobFacts(
            work_order_id=wo,
            details_event_id=story[1].id,
            details=details,
            outcome=history.outcome,
            trigger=trigger_of(*field[-1]),
            labour=history.labour,
            materials=history.materials,
            technicians={tech_id: self.technicians[tech_id]},
        )
        priced = price_job(facts, self.config)
        assert isinstance(priced, PricedJob)
        self.number += 1
        invoice = build_invoice(
            priced,
            Party(wo, details.customer_id, details.customer_name, tech_id, None, "Europe/London"),
            number=self.number,
            issued_at=facts.trigger.at,
            replaces_invoice_id=None,
        )
        return Envelope.new(
            invoice,
            source="jobstream/billing",
            sequence=1,
            causation_id=facts.trigger.event_id,
            time=facts.trigger.at,
        )


async def produce(bootstrap: str, namespace: str, generator: Generator, target: int) -> int:
    """Produce job stories until ``target`` events; returns the count."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=50,
        max_batch_size=512 * 1024,
        compression_type=None,
    )
    await producer.start()
    sent = 0
    pending: list[asyncio.Future[Any]] = []
    try:
        stories = [generator.registrations]
        index = 0
        while sent < target:
            if not stories:
                stories.append(generator.job(index))
                index += 1
            for envelope in stories.pop():
                key, value, headers = to_kafka(envelope)
                topic = namespaced(envelope.data.topic, namespace)
                pending.append(await producer.send(topic, value=value, key=key, headers=headers))
                sent += 1
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


async def consume_all(bootstrap: str, namespace: str, decode: bool) -> tuple[int, float]:
    """Read every record of billing's input topics with a plain consumer; (records, s)."""
    names = [namespaced(t, namespace) for t in INPUT_TOPICS]
    ends = await end_offsets(bootstrap, names)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=4 << 20
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        remaining = {tp: end for tp, end in ends.items() if end > 0}
        count = 0
        started = time.perf_counter()
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    if decode:
                        from_kafka(record.key, record.value, record.headers)
                    count += 1
                if records and records[-1].offset + 1 >= remaining.get(tp, 0):
                    remaining.pop(tp, None)
        return count, time.perf_counter() - started
    finally:
        await consumer.stop()


async def delete_topics(bootstrap: str, namespace: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([s.name for s in all_topic_specs(1, namespace)])
    finally:
        await admin.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    infra = Infra(bootstrap, os.environ["JOBSTREAM_PG_ADMIN_URL"], "environment")
    namespace = f"bench-billing-{uuid.uuid4().hex[:6]}"
    url = create_database(infra, prefix="bench_billing")
    upgrade_to_head("jobstream.billing.db:migrations", url)
    engine = async_engine(url, pool_size=4)
    await ensure_topics(bootstrap, all_topic_specs(args.partitions, namespace))
    results: dict[str, Any] = {"namespace": namespace, "partitions": args.partitions}
    try:
        async with engine.connect() as conn:
            at = START
            card = await queries.rate_card_in_force(conn, at)
            book = await queries.price_book_in_force(
                conn, [p for parts in PARTS.values() for p in parts], at
            )
        assert card is not None
        generator = Generator(PricingConfig(rate_card=card, price_book=book), args.technicians)
        started = time.perf_counter()
        results["produced"] = await produce(bootstrap, namespace, generator, args.events)
        results["produce_s"] = time.perf_counter() - started
        results["jobs"] = generator.number
        print(f"produced {results['produced']} events, {generator.number} jobs", flush=True)

        results["raw"] = await consume_all(bootstrap, namespace, decode=False)
        print(f"raw consume: {results['raw']}", flush=True)
        results["decoded"] = await consume_all(bootstrap, namespace, decode=True)
        print(f"decode: {results['decoded']}", flush=True)

        # A first, active generation exists before any rebuild (as in a running service).
        await generations.ensure_active(engine)
        generation = await generations.create(engine)
        load_before = os.getloadavg()[0]
        results["rebuild"] = await catch_up(
            engine,
            generation,
            bootstrap_servers=bootstrap,
            namespace=namespace,
            timeout_s=args.timeout,
            batch_size=args.batch,
        )
        results["load"] = (load_before, os.getloadavg()[0])
        print(f"rebuild: {results['rebuild']}", flush=True)
        if args.verify:
            started = time.perf_counter()
            verified, drift = await verify(engine, generation)
            results["verify"] = (verified, time.perf_counter() - started, len(drift))
            print(f"verify: {results['verify']}", flush=True)
    finally:
        await engine.dispose()
        if not args.keep:
            drop_database(infra, url)
            await delete_topics(bootstrap, namespace)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--technicians", type=int, default=40)
    parser.add_argument("--batch", type=int, default=500, help="records per partition batch")
    parser.add_argument("--timeout", type=float, default=3 * 3600)
    parser.add_argument("--keep", action="store_true", help="keep the topics and database")
    parser.add_argument("--verify", action="store_true", help="also time re-pricing every invoice")
    parser.add_argument("--no-report", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    r = asyncio.run(run(args))
    raw_n, raw_s = r["raw"]
    dec_n, dec_s = r["decoded"]
    reb_n, reb_s = r["rebuild"]
    load = r["load"]
    raw_rate, dec_rate, reb_rate = raw_n / raw_s, dec_n / dec_s, reb_n / reb_s
    command = (
        f"uv run python benchmarks/billing_rebuild.py --events {args.events} "
        f"--partitions {args.partitions}" + (" --verify" if args.verify else "")
    )
    rows = [
        ("plain aiokafka consumer, no decoding (raw consume)", raw_n, raw_s, "1"),
        (
            "+ CloudEvents decoding and contract validation",
            dec_n,
            dec_s,
            f"1/{raw_rate / dec_rate:.1f}",
        ),
        (
            f"**billing rebuild** into a new generation (batch {args.batch})",
            reb_n,
            reb_s,
            f"1/{raw_rate / reb_rate:.0f}",
        ),
    ]
    table = "\n".join(
        f"| {name} | {n:,} | {t:.1f} | {n / t:,.0f} | {ratio} |" for name, n, t, ratio in rows
    )
    verification = ""
    if "verify" in r:
        ver_n, ver_s, drift = r["verify"]
        verification = (
            f"Verification after the rebuild re-priced {ver_n:,} recorded invoices from the "
            f"rebuilt facts and the pricing versions they name in {ver_s:.0f} s "
            f"({ver_n / ver_s:,.0f} invoices/s); {drift} differed.\n"
        )
    body = f"""
{r["produced"]:,} events ({r["jobs"]:,} synthetic jobs of ~15 events each, {args.technicians}
technicians) produced to a fresh namespace of billing's four input topics ({args.partitions}
partitions each) by an idempotent, batched producer in {r["produce_s"]:.0f} s. Then, in the
same run, over the same topics, on 2 cores (1-minute load average {load[0]:.1f} before the
rebuild, {load[1]:.1f} after):

| pass | records | seconds | records/s | vs raw |
|---|---|---|---|---|
{table}

{verification}The rebuild runs billing's projector through the exactly-once runner every consumer
uses: per batch, one transaction records the processed event ids (one statement) and the
partitions' offsets beside the effects, applied under one savepoint, falling back to record
by record only when a record fails. Events billing does not read (device progress,
checklists, notes) are skipped without touching the database. The measured figure before
that batch path (record by record, each in its own savepoint) was 438 records/s, 1/134 of
raw, over a million such events on a busier machine. A generation being rebuilt does not
decide, so the rebuild neither loads nor saves the snapshots of docs/adr/0083 (a work
order's documents, a job's field history); re-pricing folds each job's facts whole.
"""
    if not args.no_report:
        write_section("billing_rebuild", "Billing rebuild rate vs raw consume", command, body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
