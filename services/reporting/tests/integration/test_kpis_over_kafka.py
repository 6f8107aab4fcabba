"""The hand-computed week, published to real Kafka and projected into real PostgreSQL.

Every KPI, the API, and the answers as of three instants.
"""

from datetime import UTC, datetime

import httpx
import pytest

from jobstream.auth import Role, mint_token
from jobstream.reporting import analytics
from jobstream.reporting.app import definition
from jobstream.reporting.domain.kpis import GroupBy
from jobstream.service import Role as ProcessRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings, DatabaseSettings

pytestmark = pytest.mark.integration

KPI_NAMES = [
    "backlog",
    "completion_to_invoice",
    "customer_satisfaction",
    "first_time_fix",
    "parts_usage",
    "repeat_visits",
    "revenue",
    "sla_resolve",
    "sla_respond",
    "technicians",
    "time_to_arrive",
    "time_to_complete",
    "time_to_schedule",
]


def at(day, hh, mm=0):
    return datetime(2026, 11, day, hh, mm, tzinfo=UTC)


@pytest.fixture
async def projected(project, week):
    engine, _topics, _story = await project(week.events)
    return engine


def api_client(engine):
    settings = ServiceSettings()
    settings.database = DatabaseSettings(DATABASE_URL=engine.url.render_as_string(False))
    app = create_app(definition(), frozenset({ProcessRole.API}), settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting")


def headers(role=Role.ANALYST):
    token = mint_token(AuthSettings(), subject="test", role=role)
    return {"Authorization": f"Bearer {token}"}


async def test_every_kpi_equals_the_hand_computed_week(projected, week_period, expected, same):
    start, end, now = week_period
    async with projected.connect() as conn:
        result = await analytics.compute_kpis(conn, start, end, now=now)
    for name in KPI_NAMES:
        assert same(result[name], expected[name]), name


async def test_the_kpi_endpoint_answers_the_same_as_of_the_evaluation_instant(
    projected, week_period, expected, same
):
    start, end, now = week_period
    params = {"start": start.isoformat(), "end": end.isoformat(), "as_of": now.isoformat()}
    async with api_client(projected) as client:
        response = await client.get("/kpis", params=params, headers=headers())
    assert response.status_code == 200, response.text
    body = response.json()
    for name in KPI_NAMES:
        assert same(body[name], expected[name]), name


async def test_kpis_as_of_tuesday_noon_know_nothing_of_later_events(projected, week_period):
    start, end, _ = week_period
    async with projected.connect() as conn:
        result = await analytics.compute_kpis(conn, start, end, as_of=at(3, 12), now=at(20, 0))
    # Only J1 and J3 were complete; J4 (the callback) was not logged yet.
    assert result["first_time_fix"]["all"] == {
        "completed": 2,
        "fixed": 2,
        "provisional": 2,
        "rate": 1.0,
    }
    # J1 and J3 met, J2 breached at 10:00; J5 and J7 were not logged yet.
    assert result["sla_respond"]["all"] == {"met": 2, "breached": 1, "pending": 0, "rate": 2 / 3}
    # J1's rating (Monday 18:00) was made; J3's (the 9th) was not yet.
    assert result["customer_satisfaction"]["all"] == {
        "ratings": 1,
        "mean_score": 5.0,
        "satisfied": 1,
        "rate": 1.0,
    }
    # J2 still open (incomplete), P1, 3 hours old.
    assert result["backlog"]["total"] == 1
    assert result["backlog"]["by_priority"]["P1"]["0-1d"] == 1


@pytest.mark.parametrize(
    ("instant", "statuses"),
    [
        # Monday 09:30: only J1 exists, and work has started.
        ((2, 9, 30), {1: "in_progress"}),
        # Tuesday noon: J2's first visit ended incomplete; J1 and J3 invoiced.
        ((3, 12, 0), {1: "invoiced", 2: "incomplete", 3: "invoiced"}),
        # Sunday 22:00: J5 waits, J6 cancelled, J7 scheduled; J2 part-credited stays invoiced.
        (
            (8, 22, 0),
            {
                1: "invoiced",
                2: "invoiced",
                3: "invoiced",
                5: "logged",
                6: "cancelled",
                7: "scheduled",
            },
        ),
    ],
)
async def test_every_jobs_state_as_of_an_instant(projected, week, instant, statuses):
    wanted = {f"wo-{n}-{week.run}": s for n, s in statuses.items()}
    async with projected.connect() as conn:
        jobs = await analytics.jobs_as_of(conn, at(*instant), {})
    assert {j["work_order_id"]: j["status"] for j in jobs} == wanted


async def test_the_jobs_endpoint_as_of_an_instant(projected, week):
    async with api_client(projected) as client:
        response = await client.get(
            "/jobs", params={"as_of": at(3, 12).isoformat()}, headers=headers()
        )
    assert response.status_code == 200, response.text
    assert {j["work_order_id"]: j["status"] for j in response.json()["jobs"]} == {
        f"wo-1-{week.run}": "invoiced",
        f"wo-2-{week.run}": "incomplete",
        f"wo-3-{week.run}": "invoiced",
    }


async def test_current_state_equals_the_state_as_of_after_the_last_event(projected, week):
    async with projected.connect() as conn:
        later = {j["work_order_id"]: j for j in await analytics.jobs_as_of(conn, at(30, 0), {})}
        for work_order_id, view in later.items():
            row = await analytics.queries.job(conn, work_order_id)
            assert row is not None
            assert row["facts"] == view["facts"]
            assert row["status"] == view["status"]


async def test_the_timeline_is_in_causal_order_with_every_topic(projected, week):
    async with api_client(projected) as client:
        response = await client.get(f"/jobs/{week.j2.work_order_id}/timeline", headers=headers())
    assert response.status_code == 200
    body = response.json()
    assert [e["event_type"] for e in body["events"]] == [
        "RequestLogged",
        "WorkOrderReleased",
        "JobScheduled",
        "TechnicianArrived",
        "JobIncomplete",
        "TechnicianArrived",
        "JobCompleted",
        "InvoiceIssued",
        "CreditNoteIssued",
        "VisitRated",
    ]
    assert body["status"]["status"] == "invoiced"
    assert body["status"]["stage"] == "done"


async def test_the_site_history_lists_the_callback(projected, week):
    async with api_client(projected) as client:
        response = await client.get(f"/sites/{week.j3.site_id}/history", headers=headers())
    assert response.status_code == 200
    jobs = response.json()["jobs"]
    assert [j["work_order_id"] for j in jobs] == [week.j3.work_order_id, week.j4.work_order_id]
    assert jobs[0]["parts"] == [
        {
            "sku": "FILTER-22",
            "description": "Part FILTER-22",
            "quantity_milli": 1000,
            "unit": "each",
        }
    ]


async def test_the_asset_history(projected, week):
    async with api_client(projected) as client:
        response = await client.get(f"/assets/{week.j1.asset_id}/history", headers=headers())
    assert [j["work_order_id"] for j in response.json()["jobs"]] == [week.j1.work_order_id]


async def test_kpis_by_customer(projected, week, week_period):
    start, end, now = week_period
    async with projected.connect() as conn:
        result = await analytics.compute_kpis(conn, start, end, group_by=GroupBy.CUSTOMER, now=now)
    assert result["repeat_visits"] == {
        f"c1-{week.run}": {"completed": 2, "repeat": 1, "rate": 0.5},
        f"c2-{week.run}": {"completed": 1, "repeat": 0, "rate": 0.0},
    }


async def test_a_technician_may_not_read_reports(projected):
    token = mint_token(AuthSettings(), subject="t", role=Role.TECHNICIAN, technician_id="t1")
    async with api_client(projected) as client:
        response = await client.get("/kpis", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403
        assert (await client.get("/kpis")).status_code == 401


async def test_a_naive_instant_is_refused_naming_the_field(projected):
    async with api_client(projected) as client:
        response = await client.get(
            "/kpis", params={"as_of": "2026-11-03T12:00:00"}, headers=headers()
        )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "as_of"]
    # Shaped like FastAPI's own validation errors, as the OpenAPI document promises.
    assert response.json()["detail"][0]["type"] == "value_error"


async def test_a_period_ending_before_it_starts_is_refused(projected):
    async with api_client(projected) as client:
        response = await client.get(
            "/kpis",
            params={"start": "2026-11-09T00:00:00Z", "end": "2026-11-02T00:00:00Z"},
            headers=headers(),
        )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "start"]
    assert response.json()["detail"][0]["type"] == "value_error"
