"""Customer satisfaction over real Kafka and PostgreSQL: rated jobs, read back from the API.

Jobs logged, worked, completed and rated, read back from the KPI API (now and as of an
instant), and the same after rebuilding the projection from the log.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from jobstream.auth import Role, mint_token
from jobstream.contracts.base import Event
from jobstream.contracts.intake import VisitRated
from jobstream.reporting.app import definition
from jobstream.reporting.db import kpi_queries
from jobstream.reporting.domain.kpis import Period
from jobstream.reporting.rebuild import rebuild
from jobstream.service import Role as ProcessRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings, DatabaseSettings
from jobstream.testing.builders import JobStory

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 16, tzinfo=UTC)  # a Monday
END = START + timedelta(days=7)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=UTC)


def visit_rated(story: JobStory, when: datetime, score: int, technician_id=None):
    return VisitRated(
        work_order_id=story.work_order_id,
        customer_id=story.customer_id,
        technician_id=technician_id,
        score=score,
        comment="Thanks" if score >= 4 else "Could be better",
        rated_by=f"portal-{story.customer_id}",
        rated_at=when,
    )


@dataclass
class Rated:
    """Four jobs of one week, each worked to completion; three rated by their customers."""

    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        r = self.run
        self.tech_x, self.tech_y = f"tech-x-{r}", f"tech-y-{r}"
        self.cust_1, self.cust_2 = f"cust-1-{r}", f"cust-2-{r}"

        def worked(n, technician, customer, job_type, day):
            story = JobStory(
                work_order_id=f"wo-{n}-{r}",
                customer_id=customer,
                technician_id=technician,
                job_type=job_type,
                start=at(day, 8),
            )
            self.events.extend(
                [
                    story.request_logged(),
                    story.released(),
                    story.scheduled_at(at(day, 8, 15)),
                    story.arrived(at(day, 9)),
                    story.started(at(day, 9, 5)),
                    story.completed_at(at(day, 10)),
                ]
            )
            return story

        a = worked(1, self.tech_x, self.cust_1, "boiler_service", 16)
        b = worked(2, self.tech_y, self.cust_1, "boiler_service", 17)
        worked(3, self.tech_x, self.cust_2, "leak_repair", 18)  # C: never rated
        d = worked(4, self.tech_y, self.cust_2, "leak_repair", 19)
        self.events += [
            visit_rated(a, at(16, 12), 5, technician_id=self.tech_x),
            # Names no technician: it counts for tech Y, who completed the job.
            visit_rated(b, at(17, 18), 3),
            # Rated after the week: it counts in the week D was completed in.
            visit_rated(d, at(24, 9), 4, technician_id=self.tech_y),
        ]


EXPECTED = {
    "none": lambda w: {"all": {"ratings": 3, "mean_score": 4.0, "satisfied": 2, "rate": 2 / 3}},
    "technician": lambda w: {
        w.tech_x: {"ratings": 1, "mean_score": 5.0, "satisfied": 1, "rate": 1.0},
        w.tech_y: {"ratings": 2, "mean_score": 3.5, "satisfied": 1, "rate": 0.5},
    },
    "customer": lambda w: {
        w.cust_1: {"ratings": 2, "mean_score": 4.0, "satisfied": 1, "rate": 0.5},
        w.cust_2: {"ratings": 1, "mean_score": 4.0, "satisfied": 1, "rate": 1.0},
    },
    "job_type": lambda w: {
        "boiler_service": {"ratings": 2, "mean_score": 4.0, "satisfied": 1, "rate": 0.5},
        "leak_repair": {"ratings": 1, "mean_score": 4.0, "satisfied": 1, "rate": 1.0},
    },
}


def api_client(engine):
    settings = ServiceSettings()
    settings.database = DatabaseSettings(DATABASE_URL=engine.url.render_as_string(False))
    app = create_app(definition(), frozenset({ProcessRole.API}), settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting")


def headers():
    return {"Authorization": f"Bearer {mint_token(AuthSettings(), subject='a', role=Role.ANALYST)}"}


async def satisfaction(engine, group_by, **params):
    query = {"start": START.isoformat(), "end": END.isoformat(), "group_by": group_by, **params}
    async with api_client(engine) as client:
        response = await client.get("/kpis", params=query, headers=headers())
    assert response.status_code == 200, response.text
    return response.json()["customer_satisfaction"]


@pytest.fixture
async def rated_week(project):
    week = Rated()
    engine, _topics, _story = await project(week.events)
    return engine, week


@pytest.mark.parametrize("group_by", list(EXPECTED))
async def test_the_kpi_api_answers_customer_satisfaction(rated_week, group_by):
    engine, week = rated_week
    assert await satisfaction(engine, group_by) == EXPECTED[group_by](week)


@pytest.mark.parametrize("group_by", list(EXPECTED))
async def test_as_of_after_the_last_rating_answers_the_same(rated_week, group_by):
    engine, week = rated_week
    as_of = at(30, 0).isoformat()
    assert await satisfaction(engine, group_by, as_of=as_of) == EXPECTED[group_by](week)


async def test_as_of_before_a_rating_was_made_it_is_not_counted(rated_week):
    engine, _week = rated_week
    # On the 23rd, D was completed but not yet rated.
    assert await satisfaction(engine, "none", as_of=at(23, 0).isoformat()) == {
        "all": {"ratings": 2, "mean_score": 4.0, "satisfied": 1, "rate": 0.5}
    }


async def test_judged_at_an_instant_in_sql_only_ratings_made_by_then_count(rated_week):
    engine, _week = rated_week
    period = Period(START.timestamp(), END.timestamp(), at(23, 0).timestamp())
    async with engine.connect() as conn:
        result = await kpi_queries.compute(conn, period)
    assert result["customer_satisfaction"] == {
        "all": {"ratings": 2, "mean_score": 4.0, "satisfied": 1, "rate": 0.5}
    }


async def test_a_rebuild_from_the_log_gives_the_same_kpi(rated_week):
    engine, week = rated_week
    before = {g: await satisfaction(engine, g) for g in EXPECTED}
    await rebuild(engine, "jobs")
    after = {g: await satisfaction(engine, g) for g in EXPECTED}
    assert after == before == {g: expected(week) for g, expected in EXPECTED.items()}


async def test_the_rating_is_in_the_jobs_facts(rated_week):
    engine, week = rated_week
    async with api_client(engine) as client:
        response = await client.get(f"/jobs/wo-1-{week.run}", headers=headers())
    assert response.status_code == 200, response.text
    rating = response.json()["facts"]["rating"]
    assert rating == {
        "score": 5,
        "comment": "Thanks",
        "rated_by": f"portal-{week.cust_1}",
        "rated_at": at(16, 12).timestamp(),
        "technician_id": week.tech_x,
    }
