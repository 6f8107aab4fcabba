"""The KPIs aggregated in PostgreSQL over the per-job measures equal the pure KPI functions.

Those of domain/kpis/, for any jobs, period, evaluation instant, breakdown and definition.
"""

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from jobstream.contracts.common import Channel, Priority
from jobstream.contracts.field import JobReopened
from jobstream.contracts.intake import RequestLogged, VisitRated
from jobstream.db import async_engine
from jobstream.reporting.db import kpi_queries, queries
from jobstream.reporting.db.tables import LIVE
from jobstream.reporting.domain import kpis
from jobstream.reporting.projections import (
    fold_job,
    fold_technician,
    job_rows,
    log_values,
    technician_row,
)
from jobstream.testing.builders import (
    JobStory,
    absence,
    technician_with_shifts,
)

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday; Europe/London changes clock on the 29th
TECHS = ("tech-a", "tech-b")
SITES = ("site-1", "site-2")
ASSETS = (None, "asset-1")
SKUS = ("VALVE-15", "FILTER-22")
HOURS = {Priority.P1: 1, Priority.P2: 4, Priority.P3: 8, Priority.P4: 24}


@dataclass(frozen=True)
class JobPlan:
    """What happens to one job, as offsets in minutes from its logging."""

    logged: int
    priority: Priority
    tech: str
    site: str
    asset: str | None
    planned: bool
    follow_up_of: int | None
    priority_change: tuple[int, Priority] | None
    scheduled: int | None
    arrivals: tuple[int, ...]
    incomplete: int | None
    labour: tuple[int, ...]
    materials: tuple[tuple[str, int, int | None], ...]
    completed: int | None
    flagged: bool
    reopened: int | None
    cancelled: int | None
    invoice: tuple[int, int, bool] | None
    credit: tuple[int, int] | None
    # (minutes after the completion, or after logging if never completed; score; whom the
    # rating names: None, or an index into TECHS)
    rating: tuple[int, int, int | None] | None


# Few distinct instants, so that events, deadlines, windows and period bounds often meet
# exactly: that is where a < and a ≤ differ.
minutes = st.sampled_from([0, 30, 60, 120, 240, 1440, 2880])
job_plans = st.builds(
    JobPlan,
    # Hour-aligned logging makes deadlines and periods meet exactly now and then.
    logged=st.sampled_from([0, 60, 120, 240, 1440, 2880, 4320]),
    priority=st.sampled_from(list(HOURS)),
    tech=st.sampled_from(TECHS),
    site=st.sampled_from(SITES),
    asset=st.sampled_from(ASSETS),
    planned=st.booleans(),
    follow_up_of=st.none() | st.integers(min_value=0, max_value=10),
    priority_change=st.none() | st.tuples(minutes, st.sampled_from(list(HOURS))),
    scheduled=st.none() | minutes,
    arrivals=st.lists(minutes, max_size=2).map(tuple),
    incomplete=st.none() | minutes,
    labour=st.lists(st.integers(min_value=1, max_value=240), max_size=2).map(tuple),
    materials=st.lists(
        st.tuples(st.sampled_from(SKUS), st.integers(1, 3000), st.none() | st.integers(0, 3000)),
        max_size=2,
    ).map(tuple),
    completed=st.none() | minutes,
    flagged=st.booleans(),
    reopened=st.none() | st.sampled_from([60, 1440, 3600, 10080, 20160, 43200]),
    cancelled=st.none() | minutes,
    invoice=st.none() | st.tuples(st.integers(0, 600), st.integers(1000, 90_000), st.booleans()),
    credit=st.none() | st.tuples(st.integers(1, 6000), st.integers(100, 20_000)),
    # Ratings often come days after the visit: after the end of the period or evaluation.
    rating=st.none()
    | st.tuples(
        st.sampled_from([0, 30, 1440, 2880, 10080, 43200]),
        st.integers(1, 5),
        st.none() | st.integers(0, len(TECHS) - 1),
    ),
)


def events_of(n: int, plan: JobPlan, run: str) -> list:
    logged = T0 + timedelta(minutes=plan.logged)
    story = JobStory(
        work_order_id=f"wo-{n}-{run}",
        customer_id=f"cust-{n % 3}",
        technician_id=plan.tech,
        priority=plan.priority,
        job_type=("boiler_service", "leak_repair")[n % 2],
        start=logged,
        site_id=plan.site,
        asset_id=plan.asset,
        respond_within=timedelta(hours=HOURS[plan.priority]),
        resolve_within=timedelta(hours=HOURS[plan.priority] * 4),
        channel=Channel.PLANNED if plan.planned else Channel.PHONE,
    )
    request = story.request_logged()
    if plan.follow_up_of is not None and plan.follow_up_of < n:
        request = RequestLogged(
            **{**request.model_dump(), "follow_up_of": f"wo-{plan.follow_up_of}-{run}"}
        )
    return [
        request,
        story.released(),
        *field_work(story, plan, logged),
        *outcome(story, plan, logged),
        *rating_of(story, plan, logged),
    ]


def field_work(story: JobStory, plan: JobPlan, logged: datetime) -> list:
    """A priority change, scheduling, visits, labour and materials, in that order."""

    def at(offset: int) -> datetime:
        return logged + timedelta(minutes=offset)

    out: list = []
    if plan.priority_change:
        when, priority = plan.priority_change
        hours = HOURS[priority]
        out.append(
            story.priority_changed(
                at(when),
                priority,
                logged + timedelta(hours=hours),
                logged + timedelta(hours=hours * 4),
            )
        )
    if plan.scheduled is not None:
        out.append(story.scheduled_at(at(plan.scheduled)))
    out += [story.arrived(at(a)) for a in plan.arrivals]
    if plan.incomplete is not None:
        out.append(story.incomplete(at(plan.incomplete), labour_minutes=plan.incomplete % 90))
    out += [story.labour_logged(at(i * 30), m, entry=f"t{i}") for i, m in enumerate(plan.labour)]
    for i, (sku, quantity, corrected) in enumerate(plan.materials):
        out.append(story.material_used_at(at(i * 20), sku, quantity, entry=f"m{i}"))
        if corrected is not None:
            out.append(story.material_corrected(at(i * 20 + 5), corrected, entry=f"m{i}"))
    return out


def outcome(story: JobStory, plan: JobPlan, logged: datetime) -> list:
    """The completion with what follows it (reopening, invoice, credit), or the cancellation."""
    out: list = []
    if plan.completed is not None:
        done = logged + timedelta(minutes=plan.completed)
        out.append(story.completed_at(done, labour_minutes=45, first_time_fix=not plan.flagged))
        if plan.reopened is not None:
            out.append(
                JobReopened(
                    work_order_id=story.work_order_id,
                    technician_id=plan.tech,
                    reason="Fault came back",
                    reopened_by="office",
                    reopened_at=done + timedelta(minutes=plan.reopened),
                )
            )
        if plan.invoice is not None:
            after, net, by_tech = plan.invoice
            out.append(
                story.invoiced_at(
                    done + timedelta(minutes=after),
                    net,
                    technician_id=plan.tech if by_tech else None,
                )
            )
            if plan.credit is not None:
                later, amount = plan.credit
                out.append(story.credited_at(done + timedelta(minutes=after + later), amount))
    elif plan.cancelled is not None:
        out.append(story.cancelled(logged + timedelta(minutes=plan.cancelled)))
    return out


def rating_of(story: JobStory, plan: JobPlan, logged: datetime) -> list:
    """The customer's rating, if the plan has one: after the completion, else the logging."""
    if plan.rating is None:
        return []
    after, score, named = plan.rating
    since = logged + timedelta(minutes=plan.completed) if plan.completed is not None else logged
    return [
        VisitRated(
            work_order_id=story.work_order_id,
            customer_id=story.customer_id,
            technician_id=TECHS[named] if named is not None else None,
            score=score,
            rated_by="portal",
            rated_at=since + timedelta(minutes=after),
        )
    ]


def technician_events() -> list:
    return [
        technician_with_shifts(
            "tech-a", [(d, "08:00", "16:00") for d in range(5)], T0 - timedelta(days=7)
        ),
        absence("tech-a", "leave-1", T0 + timedelta(days=9), T0 + timedelta(days=11)),
        technician_with_shifts(
            "tech-b", [(d, "09:00", "13:00") for d in range(3)], T0 + timedelta(days=2)
        ),
    ]


def close(a, b) -> bool:
    """Equal, floats to a relative 1e-9 (sums may add in another order)."""
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, int | float)
            and isinstance(b, int | float)
            and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    return a == b


async def compare(url: str, plans: list[JobPlan], checks: list, stamp) -> None:
    run = "p"
    story = stamp(
        [*technician_events(), *(e for n, p in enumerate(plans) for e in events_of(n, p, run))]
    )
    rows = [log_values(e) for e in story]
    by_subject: dict[str, list] = {}
    for row in rows:
        by_subject.setdefault(row["subject"], []).append(row)
    techs = {t: fold_technician(t, by_subject[t]) for t in TECHS}
    jobs = [fold_job(s, r) for s, r in by_subject.items() if s not in TECHS]
    engine = async_engine(url)
    try:
        async with engine.begin() as conn:
            for table in LIVE.tables().values():
                await conn.execute(delete(table))
            await queries.replace_job_rows(
                conn, LIVE, [j["work_order_id"] for j in jobs], job_rows(jobs)
            )
            await queries.upsert(
                conn, LIVE.technicians, "technician_id", [technician_row(t) for t in techs.values()]
            )
        async with engine.connect() as conn:
            for period, group_by, definition in checks:
                in_python = kpis.compute(jobs, techs, period, group_by, definition)
                in_sql = await kpi_queries.compute(conn, period, group_by, definition)
                for name in in_python:
                    assert close(in_sql[name], in_python[name]), (
                        name,
                        in_sql[name],
                        in_python[name],
                    )
    finally:
        await engine.dispose()


@pytest.fixture
def kpi_database(database_factory):
    """One database for every example (each example empties it first)."""
    return database_factory("jobstream.reporting.db:migrations")


day = 86_400.0
checks = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3),  # start day
        st.sampled_from([1, 2, 7]),  # length in days
        st.sampled_from([-24, 0, 1, 24, 60, 24 * 7, 24 * 30]),  # evaluated, hours after end
        st.sampled_from(list(kpis.GroupBy)),
        st.builds(
            kpis.Definition,
            ftf_window_days=st.sampled_from([7.0, 14.0, 30.0, 2.5]),
            ftf_trust_technician_flags=st.booleans(),
            ftf_planned_visits_count=st.booleans(),
        ),
    ),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=st.lists(job_plans, min_size=1, max_size=10), raw_checks=checks)
def test_kpis_in_sql_equal_the_kpi_functions(kpi_database, stamp, plans, raw_checks):
    base = T0.timestamp()
    periods = []
    for start_day, length, evaluated_hours, group_by, definition in raw_checks:
        start = base + start_day * day
        end = start + length * day
        periods.append(
            (kpis.Period(start, end, end + evaluated_hours * 3600.0), group_by, definition)
        )
    asyncio.run(compare(kpi_database, plans, periods, stamp))
