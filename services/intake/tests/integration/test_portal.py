"""What the customer portal needs from intake, on real PostgreSQL and Kafka.

The appointment and ETA from dispatch's decisions and the field's travel, the customer's
rating of a completed visit, and photos sent with a request.
"""

import hashlib
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobstream.auth import Role
from jobstream.contracts.common import Priority
from jobstream.contracts.dispatch import JobRescheduled, JobScheduled, JobUnscheduled
from jobstream.contracts.field import EtaRevised, JobCompleted, TravelStarted
from jobstream.intake.db.tables import consumer_tables
from jobstream.testing.waiting import wait_until

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SHA = "X-Content-SHA256"


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def scheduled(wo: str, technician: str, start: datetime, decided: datetime) -> JobScheduled:
    return JobScheduled(
        work_order_id=wo,
        technician_id=technician,
        window_start=start,
        window_end=start + timedelta(hours=2),
        eta=start + timedelta(minutes=10),
        travel_minutes=20,
        scheduled_at=decided,
    )


def rescheduled(
    wo: str, technician: str, previous: str, start: datetime, decided: datetime
) -> JobRescheduled:
    return JobRescheduled(
        work_order_id=wo,
        technician_id=technician,
        previous_technician_id=previous,
        window_start=start,
        window_end=start + timedelta(hours=2),
        previous_window_start=AT,
        eta=start + timedelta(minutes=5),
        travel_minutes=15,
        rescheduled_at=decided,
    )


def travel(wo: str, technician: str, at: datetime, eta: datetime | None = None) -> TravelStarted:
    return TravelStarted(
        work_order_id=wo, technician_id=technician, device_time=at, received_at=at, eta=eta
    )


def completed(order: dict[str, Any], technician: str = "tech-amir") -> JobCompleted:
    at = AT + timedelta(hours=6)
    return JobCompleted(
        work_order_id=order["work_order_id"],
        technician_id=technician,
        device_time=at,
        received_at=at,
        customer_id=order["customer_id"],
        site_id=order["site_id"],
        job_type=order["job_type"],
        priority=Priority(order["priority"]),
        completed_at=at,
        labour_minutes=60,
        work_done="Replaced the PCB and tested",
        first_time_fix=True,
    )


async def row_when(intake, wo: str, ready, message: str) -> dict[str, Any]:
    async def check():
        row = (await intake.get(f"/work-orders/{wo}")).json()
        return row if ready(row) else None

    return await wait_until(check, timeout=30, message=message)


# -- the appointment ----------------------------------------------------------------------


async def test_the_plan_then_travel_then_a_new_technician_show_in_the_customers_view(intake):
    await intake.seed()
    wo = (await intake.log(release=True))["work_order_id"]
    start = AT + timedelta(hours=3)
    await intake.from_dispatch(scheduled(wo, "tech-amir", start, decided=AT))
    await row_when(intake, wo, lambda r: r["appointment_start"], "the appointment")
    mine = (await intake.get(f"/work-orders/{wo}", intake.customer())).json()
    assert (mine["appointment_start"], mine["appointment_end"], mine["eta"]) == (
        iso(start),
        iso(start + timedelta(hours=2)),
        iso(start + timedelta(minutes=10)),
    )
    assert (mine["technician_id"], mine["appointment_decided_at"]) == ("tech-amir", iso(AT))
    assert mine["en_route_at"] is None

    set_off, expected = start - timedelta(minutes=30), start + timedelta(minutes=25)
    await intake.from_field(travel(wo, "tech-amir", set_off, eta=expected))
    on_way = await row_when(intake, wo, lambda r: r["en_route_at"], "en route")
    assert (on_way["en_route_at"], on_way["eta"]) == (iso(set_off), iso(expected))

    later = start + timedelta(hours=4)
    await intake.from_dispatch(
        rescheduled(wo, "tech-beth", "tech-amir", later, decided=set_off + timedelta(minutes=5))
    )
    moved = await row_when(intake, wo, lambda r: r["technician_id"] == "tech-beth", "moved")
    assert moved["en_route_at"] is None  # the new technician has not set off
    assert (moved["appointment_start"], moved["eta"]) == (
        iso(later),
        iso(later + timedelta(minutes=5)),
    )


async def test_a_revised_eta_on_the_way_replaces_the_first(intake):
    await intake.seed()
    wo = (await intake.log(release=True))["work_order_id"]
    start = AT + timedelta(hours=3)
    await intake.from_dispatch(scheduled(wo, "tech-amir", start, decided=AT))
    set_off = start - timedelta(minutes=30)
    await intake.from_field(travel(wo, "tech-amir", set_off, eta=start))
    await row_when(intake, wo, lambda r: r["en_route_at"], "en route")
    late = start + timedelta(minutes=35)
    await intake.from_field(
        EtaRevised(
            work_order_id=wo,
            technician_id="tech-amir",
            device_time=set_off + timedelta(minutes=10),
            received_at=set_off + timedelta(minutes=10),
            eta=late,
        )
    )
    row = await row_when(intake, wo, lambda r: r["eta"] == iso(late), "the new ETA")
    assert row["en_route_at"] == iso(set_off), "still on the way since setting off"


async def test_a_reschedule_of_the_same_technician_keeps_them_on_the_way(intake):
    await intake.seed()
    wo = (await intake.log(release=True))["work_order_id"]
    start = AT + timedelta(hours=3)
    await intake.from_dispatch(scheduled(wo, "tech-amir", start, decided=AT))
    await intake.from_field(travel(wo, "tech-amir", start - timedelta(minutes=20)))
    on_way = await row_when(intake, wo, lambda r: r["en_route_at"], "en route")
    assert on_way["eta"] == iso(start + timedelta(minutes=10))  # no ETA given: the plan's
    await intake.from_dispatch(
        rescheduled(wo, "tech-amir", "tech-amir", start, decided=AT + timedelta(hours=1))
    )
    row = await row_when(
        intake,
        wo,
        lambda r: r["appointment_decided_at"] == iso(AT + timedelta(hours=1)),
        "rescheduled",
    )
    assert row["en_route_at"] == iso(start - timedelta(minutes=20))


async def test_an_unscheduled_job_has_no_appointment(intake):
    await intake.seed()
    wo = (await intake.log(release=True))["work_order_id"]
    start = AT + timedelta(hours=3)
    await intake.from_dispatch(
        scheduled(wo, "tech-amir", start, decided=AT),
        JobUnscheduled(
            work_order_id=wo,
            technician_id="tech-amir",
            reason="Technician off sick",
            unscheduled_at=AT + timedelta(hours=1),
        ),
    )
    row = await row_when(
        intake,
        wo,
        lambda r: r["appointment_decided_at"] == iso(AT + timedelta(hours=1)),
        "unscheduled",
    )
    assert [row[c] for c in ("appointment_start", "appointment_end", "eta", "en_route_at")] == [
        None
    ] * 4
    assert row["technician_id"] is None


async def test_a_decision_older_than_the_one_shown_is_ignored(intake):
    await intake.seed()
    wo = (await intake.log(release=True))["work_order_id"]
    newer = AT + timedelta(hours=1)
    start = AT + timedelta(hours=5)
    envelopes = await intake.from_dispatch(
        scheduled(wo, "tech-amir", start, decided=newer),
        rescheduled(wo, "tech-beth", "tech-amir", AT + timedelta(hours=2), decided=AT),
        JobUnscheduled(
            work_order_id=wo, technician_id="tech-amir", reason="stale", unscheduled_at=AT
        ),
    )
    await intake.consumed(*envelopes)
    row = (await intake.get(f"/work-orders/{wo}")).json()
    assert (row["technician_id"], row["appointment_start"], row["appointment_decided_at"]) == (
        "tech-amir",
        iso(start),
        iso(newer),
    )


async def test_travel_by_a_technician_the_plan_no_longer_holds_is_ignored(intake):
    await intake.seed()
    wo = (await intake.log(release=True))["work_order_id"]
    await intake.from_dispatch(scheduled(wo, "tech-beth", AT + timedelta(hours=3), decided=AT))
    await row_when(intake, wo, lambda r: r["appointment_start"], "the appointment")
    envelopes = await intake.from_field(travel(wo, "tech-amir", AT + timedelta(hours=2)))
    await intake.consumed(*envelopes)
    assert (await intake.get(f"/work-orders/{wo}")).json()["en_route_at"] is None


async def test_a_decision_about_an_unknown_work_order_is_dead_lettered(intake):
    envelopes = await intake.from_dispatch(
        scheduled(f"wo-unknown-{os.urandom(4).hex()}", "tech-amir", AT, decided=AT)
    )
    await intake.consumed(*envelopes, table=consumer_tables.dead_letters)


# -- the customer's rating ----------------------------------------------------------------


async def completed_job(intake) -> dict[str, Any]:
    order = await intake.log(release=True)
    wo = order["work_order_id"]
    await intake.from_dispatch(scheduled(wo, "tech-amir", AT + timedelta(hours=3), decided=AT))
    await intake.from_field(completed(order))
    return await row_when(intake, wo, lambda r: r["status"] == "completed", "completed")


async def rate(intake, wo: str, body: dict[str, Any], headers=None):
    return await intake.post(f"/work-orders/{wo}/rating", body, headers or intake.customer())


async def test_a_customer_rates_their_completed_visit_once(intake):
    await intake.seed()
    done = await completed_job(intake)
    wo = done["work_order_id"]
    key = {**intake.customer(), "Idempotency-Key": f"rate-{wo}"}
    body = {"score": 4, "comment": "On time; explained the fault"}
    answer = await rate(intake, wo, body, key)
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert (view["rating"], view["rating_comment"]) == (4, "On time; explained the fault")
    assert view["rated_at"] is not None
    assert view["status"] == "completed"  # the field's outcome stays the status
    assert view["version"] == done["version"] + 1
    assert answer.headers["ETag"] == f'"{view["version"]}"'

    retried = await rate(intake, wo, body, key)
    assert retried.status_code == 200 and retried.headers["Idempotent-Replayed"] == "true"
    again = await rate(intake, wo, {"score": 1})
    assert again.status_code == 409
    assert "already rated" in again.json()["detail"]

    rated = [e for e in await intake.published(wo, "VisitRated") if e.type == "VisitRated"]
    assert len(rated) == 1
    event = rated[0].data
    assert (event.customer_id, event.technician_id, event.score, event.rated_by) == (
        "cust-dd",
        "tech-amir",
        4,
        "portal-cust-dd",
    )
    assert event.comment == "On time; explained the fault"
    assert (await intake.get(f"/work-orders/{wo}")).json()["rating"] == 4


async def test_a_visit_not_yet_completed_cannot_be_rated(intake):
    await intake.seed()
    wo = (await intake.log(release=True))["work_order_id"]
    answer = await rate(intake, wo, {"score": 5})
    assert answer.status_code == 409
    assert "not completed" in answer.json()["detail"]


async def test_only_the_customer_rates_and_only_their_own(intake):
    await intake.seed()
    wo = (await completed_job(intake))["work_order_id"]
    other = await rate(intake, wo, {"score": 5}, intake.customer("cust-other"))
    assert other.status_code == 404
    assert other.json()["detail"] == f"no work order {wo}"
    unknown = await rate(intake, "wo-nope", {"score": 5})
    assert unknown.status_code == 404
    assert (await rate(intake, wo, {"score": 5}, intake.office)).status_code == 403
    assert (await rate(intake, wo, {"score": 5}, intake.admin)).status_code == 403
    assert (await intake.get(f"/work-orders/{wo}")).json()["rating"] is None


@pytest.mark.parametrize("score", [0, 6])
async def test_a_score_is_from_one_to_five(intake, score):
    answer = await rate(intake, "wo-any", {"score": score})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "score"]


# -- photos -------------------------------------------------------------------------------


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + os.urandom(64)


async def upload(intake, data: bytes, headers=None, content_type: str = "image/png", **extra):
    return await intake.client.post(
        "/request-photos",
        content=data,
        headers={**(headers or intake.customer()), "Content-Type": content_type, **extra},
    )


async def test_a_customer_sends_a_photo_with_a_request_and_reads_it_back(intake):
    await intake.seed()
    data = png()
    digest = hashlib.sha256(data).hexdigest()
    answer = await upload(intake, data, **{SHA: digest, "X-Filename": "../../radiator <1>.png"})
    assert answer.status_code == 201, answer.text
    ref = answer.json()
    assert ref == {
        "key": f"intake/uploads/cust-dd/{digest}.png",
        "filename": "radiator _1_.png",
        "content_type": "image/png",
        "size_bytes": len(data),
        "sha256": digest,
    }
    assert (intake.objects_root / ref["key"]).read_bytes() == data
    assert (await upload(intake, data)).status_code == 200  # the same bytes: harmless

    body = {
        "customer_id": "cust-dd",
        "site_id": "site-dd",
        "description": "Radiator cold at the top",
        "priority": "P3",
        "attachments": [ref],
    }
    logged = await intake.post("/requests", body, intake.customer())
    assert logged.status_code == 201, logged.text
    wo = logged.json()["work_order_id"]
    (event,) = await intake.published(wo, "RequestLogged")
    assert [a.model_dump() for a in event.data.attachments] == [ref]
    assert (await intake.get(f"/work-orders/{wo}", intake.customer())).json()["attachments"] == [
        ref
    ]

    photo = await intake.get(f"/work-orders/{wo}/attachments/0", intake.customer())
    assert photo.status_code == 200
    assert photo.content == data
    assert photo.headers["content-type"] == "image/png"
    assert photo.headers[SHA] == digest
    assert (await intake.get(f"/work-orders/{wo}/attachments/0")).content == data  # the office
    other = await intake.get(f"/work-orders/{wo}/attachments/0", intake.customer("cust-other"))
    assert other.status_code == 404
    assert (await intake.get(f"/work-orders/{wo}/attachments/1")).status_code == 404


async def test_the_office_uploads_under_its_own_prefix(intake):
    answer = await upload(intake, png(), intake.office)
    assert answer.status_code == 201, answer.text
    assert answer.json()["key"].startswith("intake/uploads/office/")
    assert answer.json()["filename"] == "photo.png"


async def test_a_photo_must_be_a_jpeg_png_or_webp(intake):
    for content_type in ("image/gif", "image/svg+xml", "application/pdf"):
        answer = await upload(intake, png(), content_type=content_type)
        assert answer.status_code == 415, content_type
        assert "image/jpeg, image/png, image/webp" in answer.json()["detail"]
    not_jpeg = await upload(intake, png(), content_type="image/jpeg")
    assert not_jpeg.status_code == 422
    assert "not a JPEG image" in not_jpeg.json()["detail"][0]["msg"]


async def test_a_checksum_that_does_not_match_is_refused_naming_the_header(intake):
    data = png()
    answer = await upload(intake, data, **{SHA: "0" * 64})
    assert answer.status_code == 422
    (error,) = answer.json()["detail"]
    assert error["loc"] == ["header", SHA]
    assert hashlib.sha256(data).hexdigest() in error["msg"]
    assert not (intake.objects_root / "intake" / "uploads").exists()


async def test_a_photo_over_the_limit_is_refused(intake):
    answer = await upload(intake, png() + bytes(10 * 1024 * 1024))
    assert answer.status_code == 413


async def test_a_request_carries_only_the_customers_own_photos_as_stored(intake):
    await intake.seed()
    theirs = (await upload(intake, png(), intake.customer("cust-other"))).json()
    mine, also = (await upload(intake, png())).json(), (await upload(intake, png())).json()
    body = {
        "customer_id": "cust-dd",
        "site_id": "site-dd",
        "description": "Leak under the sink",
        "priority": "P2",
    }

    async def refused(attachments: list[dict[str, Any]], *words: str) -> None:
        answer = await intake.post(
            "/requests", body | {"attachments": attachments}, intake.customer()
        )
        assert answer.status_code == 422, answer.text
        (error,) = answer.json()["detail"]
        assert error["loc"] == ["body", "attachments", len(attachments) - 1]
        for word in words:
            assert word in error["msg"]

    await refused([theirs], "not one of your uploads")
    await refused([also, mine | {"sha256": "f" * 64}], "sha256")
    await refused([mine, also, mine], "listed twice")
    await refused([mine | {"size_bytes": 3}], "size_bytes")
    missing = mine | {"key": mine["key"].replace(mine["sha256"], "e" * 64)}
    await refused([missing], "nothing is stored")
    await refused([mine | {"key": "intake/uploads/cust-dd/../cust-other/x.png"}], "not an")
    assert (await intake.get("/work-orders", intake.customer())).json() == []

    # The office may attach anyone's upload (it logs for every customer).
    office = await intake.post("/requests", body | {"attachments": [mine]}, intake.office)
    assert office.status_code == 201, office.text
    too_many = await intake.post("/requests", body | {"attachments": [mine] * 6}, intake.office)
    assert too_many.status_code == 422


async def test_an_analyst_may_not_upload(intake):
    answer = await upload(intake, png(), intake.headers(Role.ANALYST, "analyst-ann"))
    assert answer.status_code == 403
