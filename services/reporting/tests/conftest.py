"""A hand-computable week of work for reporting's tests.

The figures are worked out in the tests that use it, and in docs/kpis.md's worked example.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from jobstream.contracts.base import Event
from jobstream.contracts.common import Channel, Priority
from jobstream.contracts.intake import VisitRated
from jobstream.messaging.envelope import Envelope
from jobstream.testing.builders import (
    JobStory,
    absence,
    business_time,
    technician_with_shifts,
)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """November 2026, UTC (which is also Europe/London's time in November)."""
    return datetime(2026, 11, day, hh, mm, tzinfo=UTC)


def rated(
    story: JobStory,
    at: datetime,
    score: int,
    *,
    technician_id: str | None = None,
    comment: str = "",
) -> VisitRated:
    """The customer's rating of the job's visit."""
    return VisitRated(
        work_order_id=story.work_order_id,
        customer_id=story.customer_id,
        technician_id=technician_id,
        score=score,
        comment=comment,
        rated_by=f"portal-{story.customer_id}",
        rated_at=at,
    )


def at_business_time(events: list[Event]) -> list[Envelope]:
    """jobstream.testing's envelopes_at_business_time, knowing VisitRated's ``rated_at``.

    The shared builders' list of business-time fields does not name it yet.
    """
    sequences: dict[str, int] = {}
    out = []
    for event in events:
        sequences[event.subject] = sequences.get(event.subject, 0) + 1
        time = event.rated_at if isinstance(event, VisitRated) else business_time(event)
        sequence = sequences[event.subject]
        out.append(Envelope.new(event, source="jobstream/test", sequence=sequence, time=time))
    return out


@pytest.fixture
def stamp():
    """Envelopes of events, each stamped with its business time (at_business_time)."""
    return at_business_time


# Monday 2 November 2026 00:00 → Monday 9 November 00:00.
PERIOD_START = at(2, 0)
PERIOD_END = at(9, 0)
NOW = at(20, 0)


@dataclass
class Week:
    """Two technicians and seven jobs, each id unique to this run."""

    run: str
    events: list[Event] = field(default_factory=list)

    def envelopes(self) -> list[Envelope]:
        """The week's events as they arrive, each stamped with its business time."""
        return at_business_time(self.events)

    def __post_init__(self) -> None:
        r = self.run
        self.tech_a, self.tech_b = f"tech-a-{r}", f"tech-b-{r}"
        weekdays = [(d, "08:00", "16:00") for d in range(5)]
        self.events += [
            technician_with_shifts(self.tech_a, weekdays, at(1, 0) - timedelta(days=30)),
            absence(self.tech_a, f"leave-{r}", at(6, 0), at(7, 0)),
            technician_with_shifts(
                self.tech_b, [(d, "09:00", "13:00") for d in range(3)], at(1, 0)
            ),
        ]

        def story(n: int, **kw) -> JobStory:
            return JobStory(work_order_id=f"wo-{n}-{r}", **kw)

        c1, c2, c3 = f"c1-{r}", f"c2-{r}", f"c3-{r}"
        # J1: a clean first-time fix by tech A.
        j1 = self.j1 = story(
            1,
            customer_id=c1,
            technician_id=self.tech_a,
            start=at(2, 8),
            site_id=f"s1-{r}",
            asset_id=f"a1-{r}",
            respond_within=timedelta(hours=4),
            resolve_within=timedelta(hours=24),
        )
        self.events += [
            j1.request_logged(),
            j1.released(),
            j1.scheduled_at(at(2, 8, 10)),
            j1.arrived(at(2, 9)),
            j1.started(at(2, 9, 5)),
            j1.labour_logged(at(2, 9, 5), 60),
            j1.material_used_at(at(2, 9, 30), "VALVE-15", 2000),
            j1.material_corrected(at(2, 9, 40), 1500),
            j1.completed_at(at(2, 10), labour_minutes=60),
            j1.invoiced_at(at(2, 10, 30), 10_000, technician_id=self.tech_a, number=1),
            rated(j1, at(2, 18), 5, technician_id=self.tech_a, comment="Quick and tidy"),
        ]
        # J2: P1, late, two visits, credited in part.
        j2 = self.j2 = story(
            2,
            customer_id=c1,
            technician_id=self.tech_a,
            start=at(3, 9),
            priority=Priority.P1,
            job_type="leak_repair",
            site_id=f"s2-{r}",
            asset_id=f"a2-{r}",
            respond_within=timedelta(hours=1),
            resolve_within=timedelta(hours=4),
        )
        self.events += [
            j2.request_logged(),
            j2.released(),
            j2.scheduled_at(at(3, 9, 20)),
            j2.arrived(at(3, 10, 30)),
            j2.incomplete(at(3, 11, 30), labour_minutes=45),
            j2.arrived(at(4, 9)),
            j2.completed_at(at(4, 10), labour_minutes=50, first_time_fix=False),
            j2.invoiced_at(at(4, 11), 20_000, technician_id=self.tech_a, number=2),
            j2.credited_at(at(5, 9), 5_000),
            rated(j2, at(5, 12), 2, technician_id=self.tech_a, comment="Two visits"),
        ]
        # J3: raised from P3 to P2 before it was due; done in time, but called back (J4).
        j3 = self.j3 = story(
            3,
            customer_id=c2,
            technician_id=self.tech_b,
            start=at(2, 10),
            priority=Priority.P3,
            site_id=f"s3-{r}",
            asset_id=f"a3-{r}",
            respond_within=timedelta(hours=8),
            resolve_within=timedelta(hours=48),
        )
        self.events += [
            j3.request_logged(),
            j3.released(),
            j3.priority_changed(at(2, 11), Priority.P2, at(2, 12), at(3, 10)),
            j3.scheduled_at(at(2, 10, 30)),
            j3.arrived(at(2, 11, 45)),
            j3.labour_logged(at(2, 11, 50), 45),
            j3.material_used_at(at(2, 12), "FILTER-22", 1000),
            j3.completed_at(at(2, 12, 45), labour_minutes=45),
            j3.invoiced_at(at(2, 13), 7_000, technician_id=None, number=3),
            # Rated after the week, naming no technician: it counts for the week J3 was
            # completed in, for the technician who completed it.
            rated(j3, at(9, 10), 4),
        ]
        # J4: same site and asset as J3, logged after the week: a follow-up within 30 days.
        j4 = self.j4 = story(
            4,
            customer_id=c2,
            technician_id=self.tech_b,
            start=at(9, 9),
            priority=Priority.P3,
            site_id=f"s3-{r}",
            asset_id=f"a3-{r}",
            respond_within=timedelta(hours=8),
        )
        self.events += [j4.request_logged()]
        # J5: planned P4 visit, never scheduled: misses its respond deadline, in the backlog.
        j5 = self.j5 = story(
            5,
            customer_id=c3,
            start=at(5, 9),
            priority=Priority.P4,
            job_type="hvac_maintenance",
            site_id=f"s4-{r}",
            channel=Channel.PLANNED,
            respond_within=timedelta(hours=24),
            resolve_within=timedelta(days=7),
        )
        self.events += [j5.request_logged()]
        # J6: cancelled before it was due: not judged for SLA, not in the backlog.
        j6 = self.j6 = story(
            6,
            customer_id=c3,
            start=at(6, 10),
            site_id=f"s5-{r}",
            respond_within=timedelta(hours=4),
        )
        self.events += [j6.request_logged(), j6.cancelled(at(6, 11))]
        # J7: P1 on Sunday night, scheduled to B, nobody on site by the deadline.
        j7 = self.j7 = story(
            7,
            customer_id=c1,
            technician_id=self.tech_b,
            start=at(8, 20),
            priority=Priority.P1,
            job_type="leak_repair",
            site_id=f"s6-{r}",
            respond_within=timedelta(hours=1),
            resolve_within=timedelta(hours=4),
        )
        self.events += [j7.request_logged(), j7.released(), j7.scheduled_at(at(8, 20, 15))]


@pytest.fixture
def week() -> Week:
    import uuid

    return Week(run=uuid.uuid4().hex[:8])


def expected_week_kpis(w: Week) -> dict:
    """The week's KPIs worked out by hand (group_by none unless named; minutes)."""
    return {
        # Completed in the week: J1, J2, J3. J2 took two visits and was flagged; J3 was
        # followed by J4 at the same site and asset within 30 days. J1 is still inside its
        # 30-day window on the 20th, so its fix is provisional.
        "first_time_fix": {"all": {"completed": 3, "fixed": 1, "provisional": 1, "rate": 1 / 3}},
        # Respond deadlines in the week: J1 met (09:00 ≤ 12:00), J2 breached (10:30 > 10:00),
        # J3 met against its raised-priority deadline (11:45 ≤ 12:00), J5 and J7 nobody on
        # site by the deadline; J6 cancelled before it was due.
        "sla_respond": {"all": {"met": 2, "breached": 3, "pending": 0, "rate": 0.4}},
        # Resolve deadlines in the week: J1 met, J2 breached (Wed 10:00 > Tue 13:00), J3 met
        # (Mon 12:45 ≤ Tue 10:00); J7's falls on the period end, excluded.
        "sla_resolve": {"all": {"met": 2, "breached": 1, "pending": 0, "rate": 2 / 3}},
        # J1 10, J2 20, J3 30, J7 15.
        "time_to_schedule": {"all": {"count": 4, "mean_minutes": 18.75, "p90_minutes": 30.0}},
        # J1 60, J2 90, J3 105.
        "time_to_arrive": {"all": {"count": 3, "mean_minutes": 85.0, "p90_minutes": 105.0}},
        # J1 120, J2 1500 (25 h), J3 165.
        "time_to_complete": {"all": {"count": 3, "mean_minutes": 595.0, "p90_minutes": 1500.0}},
        # J1 30, J2 60, J3 15.
        "completion_to_invoice": {"all": {"count": 3, "mean_minutes": 35.0, "p90_minutes": 60.0}},
        "repeat_visits": {"all": {"completed": 3, "repeat": 1, "rate": 1 / 3}},
        # Ratings of the jobs completed in the week: J1 5, J2 2, J3 4 (rated on the 9th).
        "customer_satisfaction": {
            "all": {"ratings": 3, "mean_score": 3.67, "satisfied": 2, "rate": 2 / 3}
        },
        # J1's valve corrected from 2 to 1.5.
        "parts_usage": {
            "all": {
                "VALVE-15": {
                    "description": "Part VALVE-15",
                    "unit": "each",
                    "quantity_milli": 1500,
                    "jobs": 1,
                },
                "FILTER-22": {
                    "description": "Part FILTER-22",
                    "unit": "each",
                    "quantity_milli": 1000,
                    "jobs": 1,
                },
            }
        },
        "revenue": {
            "all": {
                "GBP": {
                    "invoiced_net_minor": 37_000,
                    "credited_net_minor": 5_000,
                    "net_minor": 32_000,
                }
            }
        },
        # A: Mon–Thu 8 h (Friday on leave) = 4 days, 1920 min; labour J1 60 (time entry) +
        # J2 45 + 50 (reported at the incomplete visit and the completion) = 155.
        # B: Mon–Wed 4 h = 3 days, 720 min; labour J3 45.
        "technicians": {
            w.tech_a: {
                "name": f"Technician {w.tech_a}",
                "jobs_completed": 2,
                "shift_days": 4,
                "shift_minutes": 1920.0,
                "labour_minutes": 155.0,
                "jobs_per_day": 0.5,
                "utilisation": 155 / 1920,
            },
            w.tech_b: {
                "name": f"Technician {w.tech_b}",
                "jobs_completed": 1,
                "shift_days": 3,
                "shift_minutes": 720.0,
                "labour_minutes": 45.0,
                "jobs_per_day": 1 / 3,
                "utilisation": 45 / 720,
            },
        },
        # Open at Monday 9th 00:00: J5 (P4, 3 d 15 h old) and J7 (P1, 4 h old).
        "backlog": {
            "at": PERIOD_END.timestamp(),
            "total": 2,
            "by_priority": {
                "P1": {"0-1d": 1, "1-3d": 0, "3-7d": 0, "7-30d": 0, "30d+": 0},
                "P4": {"0-1d": 0, "1-3d": 0, "3-7d": 1, "7-30d": 0, "30d+": 0},
            },
            "oldest_age_hours": 87.0,
        },
    }


@pytest.fixture
def expected(week: Week) -> dict:
    """The hand-computed KPIs of ``week``."""
    return expected_week_kpis(week)


@pytest.fixture
def week_period() -> tuple[datetime, datetime, datetime]:
    """(start, end, now) the week's KPIs are computed for."""
    return PERIOD_START, PERIOD_END, NOW


def rounded(value):
    """``value`` with every float rounded to 9 places, for exact comparison of results."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


@pytest.fixture
def same():
    """Compare two results, floats to 9 places."""
    return lambda a, b: rounded(a) == rounded(b)


@pytest.fixture
async def project(infra, database_factory, topic_factory):
    """Publish events to fresh topics and project them with reporting.projector.

    One topic per owning service, over real Kafka and PostgreSQL; returns (engine, topics).
    """
    import dataclasses

    from jobstream.contracts import topics as topic_names
    from jobstream.db import async_engine
    from jobstream.messaging.consumer import ConsumerRunner
    from jobstream.reporting.app import consumers
    from jobstream.reporting.db.tables import consumer_tables
    from jobstream.testing.contract_suite import RunningConsumer, publish

    engines = []

    async def run(events, *, engine=None, topics=None, runner_stats=None, group_id=None):
        topics = topics or {
            t: await topic_factory(t, partitions=3) for t in topic_names.EVENT_TOPICS
        }
        story = at_business_time(events)
        for name, topic in topics.items():
            await publish(
                infra.bootstrap_servers, topic, [e for e in story if e.data.topic == name]
            )
        if engine is None:
            engine = async_engine(database_factory("jobstream.reporting.db:migrations"))
            engines.append(engine)
        spec = dataclasses.replace(
            consumers(None)[0],
            topics=tuple(topics.values()),
            group_id=group_id or f"reporting.{uuid_hex()}",
        )
        running = RunningConsumer(
            ConsumerRunner(spec, engine, consumer_tables, bootstrap_servers=infra.bootstrap_servers)
        )
        await running.wait_applied(len(story))
        await running.stop()
        return engine, topics, story

    yield run
    for engine in engines:
        await engine.dispose()


def uuid_hex() -> str:
    import uuid

    return uuid.uuid4().hex[:10]
