"""Dispatch's live decisions as the service makes them: PostgreSQL load, engine, events.

    uv run python benchmarks/dispatch_live.py

(needs PostgreSQL: JOBSTREAM_PG_ADMIN_URL from the environment, or the local stack that
`make infra-up` starts; it creates and drops its own database.)

Twenty technicians (08:00–17:00), then 200 routine releases at 07:00 through the
scheduler's own handler, each in its own transaction (the consumer's unit of work, Kafka
aside). Then 32 P1 releases between 09:00 and 14:00, each applied to the same 200-job plan
inside a transaction that is rolled back afterwards, so every urgent job meets the same
plan: the time from handling the release to the decision's events written and projected,
and the JobRescheduled events it appended (other jobs moved).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import percentile, write_section
from sqlalchemy import func, select

from jobstream.contracts.common import (
    Certification,
    GeoPoint,
    Priority,
    SiteAddress,
    SkillLevel,
    WorkOrderDetails,
)
from jobstream.contracts.dispatch import Shift, TechnicianProfile
from jobstream.contracts.intake import WorkOrderReleased
from jobstream.db import async_engine, upgrade_to_head
from jobstream.dispatch import handlers as commands
from jobstream.dispatch.config import DispatchSettings
from jobstream.dispatch.db.tables import events
from jobstream.dispatch.domain.commands import RegisterTechnician
from jobstream.dispatch.policies import on_work_order_released
from jobstream.messaging.envelope import Envelope
from jobstream.messaging.reactions import handlers_by_event
from jobstream.testing.infra import create_database, drop_database, find_infra

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
SKILLS = {"gas_boiler": "gas_safe", "plumbing": None, "electrical": "18th_edition"}


def release(rng: random.Random, at: datetime, priority: Priority, n: int) -> WorkOrderReleased:
    skill = rng.choice(sorted(SKILLS))
    respond, resolve = (1, 4) if priority is Priority.P1 else (24, 72)
    here = GeoPoint(lat=rng.uniform(53.35, 53.60), lon=rng.uniform(-2.45, -2.05))
    details = WorkOrderDetails(
        customer_id=f"cust-{n}",
        site=SiteAddress(site_id=f"site-{n}", address="Somewhere, Manchester", location=here),
        job_type="repair",
        description="Fault",
        priority=priority,
        required_skills=(skill,),
        required_certifications=(SKILLS[skill],) if SKILLS[skill] else (),
        estimated_duration_minutes=rng.choice((45, 60, 90)),
        respond_by=at + timedelta(hours=respond),
        resolve_by=at + timedelta(hours=resolve),
    )
    return WorkOrderReleased(
        work_order_id=f"wo-{n}", details=details, released_by="bench", released_at=at
    )


def technician(rng: random.Random, t: int) -> TechnicianProfile:
    """A technician with two of the skills, working 08:00–17:00 Monday to Friday (UTC)."""
    skills = rng.sample(sorted(SKILLS), 2)
    return TechnicianProfile(
        name=f"Tech {t}",
        skills=tuple(SkillLevel(name=s) for s in skills),
        certifications=tuple(
            Certification(name=cert, expires_on=MONDAY.date().replace(year=2030))
            for s in skills
            if (cert := SKILLS[s])
        ),
        home_base=GeoPoint(lat=rng.uniform(53.35, 53.60), lon=rng.uniform(-2.45, -2.05)),
        time_zone="UTC",
        shifts=tuple(Shift(weekday=d, start="08:00", end="17:00") for d in range(5)),
    )


async def run(url: str) -> str:
    settings = DispatchSettings()
    on_release = handlers_by_event(on_work_order_released, context=settings)["WorkOrderReleased"]
    engine = async_engine(url)
    rng = random.Random(0)
    async with engine.begin() as conn:
        for t in range(20):
            await commands.register_technician(
                RegisterTechnician(f"tech-{t}", technician(rng, t), MONDAY),
                commands.Context(conn, settings),
            )
    routine: list[float] = []
    for n in range(200):
        env = Envelope.new(release(rng, MONDAY + timedelta(hours=7), Priority.P3, n), source="b")
        async with engine.begin() as conn:
            started = time.perf_counter()
            await on_release(conn, env)
            routine.append(time.perf_counter() - started)
    urgent: list[float] = []
    moved: list[int] = []
    placed = 0
    for k in range(32):
        at = MONDAY + timedelta(hours=9, minutes=rng.randrange(0, 300))
        env = Envelope.new(release(rng, at, Priority.P1, 1000 + k), source="b")
        async with engine.connect() as conn:
            tx = await conn.begin()
            started = time.perf_counter()
            await on_release(conn, env)
            urgent.append(time.perf_counter() - started)
            counts = dict(
                (
                    await conn.execute(
                        select(events.c.event_type, func.count())
                        .where(events.c.causation_id == env.id)
                        .group_by(events.c.event_type)
                    )
                ).all()
            )
            placed += 1 if counts.get("JobScheduled") else 0
            moved.append(int(counts.get("JobRescheduled", 0)))
            await tx.rollback()
    await engine.dispose()
    ms_r = [s * 1000 for s in routine]
    ms_u = [s * 1000 for s in urgent]
    return "\n".join(
        [
            "| decision | count | p50 | p95 | max | other jobs moved: median / max | placed |",
            "|---|---|---|---|---|---|---|",
            f"| routine release into a growing plan (0 → 200 jobs) | {len(ms_r)} | "
            f"{statistics.median(ms_r):.0f} ms | {percentile(ms_r, 95):.0f} ms | "
            f"{max(ms_r):.0f} ms | — | — |",
            f"| P1 release into the 200-job plan | {len(ms_u)} | {statistics.median(ms_u):.0f} ms"
            f" | {percentile(ms_u, 95):.0f} ms | {max(ms_u):.0f} ms | "
            f"{statistics.median(moved):.0f} / {max(moved)} | {100 * placed / len(ms_u):.0f} % |",
        ]
    )


def main() -> int:
    load_before = os.getloadavg()
    with find_infra() as infra:
        url = create_database(infra, "bench")
        try:
            upgrade_to_head("jobstream.dispatch.db:migrations", url)
            table = asyncio.run(run(url))
        finally:
            drop_database(infra, url)
    load_after = os.getloadavg()
    body = f"""
Through the scheduler's own handler on a real PostgreSQL (Kafka aside): plan lock, loading
technicians, open work orders and the schedule, the engine, and the decision's events
appended and projected, in one transaction. The engine alone answers in about a
millisecond (previous section); the rest is the database round trips of one decision.

{table}

Machine load (1-minute average) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}.
"""
    write_section(
        "dispatch-live",
        "Dispatch: live decisions through the service's handler",
        "uv run python benchmarks/dispatch_live.py",
        body,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
