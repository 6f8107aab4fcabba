"""Every channel logs a request, published on Kafka: office, portal, API, email."""

import asyncio
from email.message import EmailMessage

import pytest

from jobstream.auth import Role
from jobstream.objectstore import LocalObjectStore

pytestmark = pytest.mark.integration


async def test_the_office_logs_a_phone_call_with_its_sla_deadlines(intake):
    await intake.seed()
    order = await intake.log(asset_id="asset-dd-boiler", contact_id="ct-priya")
    assert order["channel"] == "phone"
    assert order["status"] == "logged"
    (logged,) = await intake.published(order["work_order_id"], "RequestLogged")
    event = logged.data
    assert event.customer_name == "Deansgate Dental"
    assert event.site.time_zone == "Europe/London"
    assert event.asset is not None and event.asset.make == "Worcester Bosch"
    assert event.contact is not None and event.contact.email == "priya@dd.example"
    assert event.logged_by == "office-anna"
    assert (event.resolve_by - event.logged_at).total_seconds() == 24 * 3600  # P2, no contract


async def test_a_retried_phone_entry_with_its_idempotency_key_creates_one_job(intake):
    await intake.seed()
    body = {"customer_id": "cust-dd", "site_id": "site-dd", "description": "Leak", "priority": "P1"}
    headers = intake.office | {"Idempotency-Key": "call-0931"}
    first, second = await asyncio.gather(
        intake.post("/requests", body, headers), intake.post("/requests", body, headers)
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["work_order_id"] == second.json()["work_order_id"]
    listed = (await intake.get("/work-orders")).json()
    assert len(listed) == 1


async def test_a_site_of_another_customer_is_refused_naming_the_field(intake):
    await intake.seed()
    body = {"customer_id": "cust-dd", "site_id": "site-other", "description": "x", "priority": "P3"}
    response = await intake.post("/requests", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "site_id"]
    assert (await intake.get("/work-orders")).json() == []


async def test_bad_input_names_the_field(intake):
    response = await intake.post(
        "/requests", {"customer_id": "c", "site_id": "s", "description": "x", "priority": "P9"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "priority"]


async def test_a_customer_logs_through_the_portal_for_their_own_site(intake):
    await intake.seed()
    body = {
        "customer_id": "cust-dd",
        "site_id": "site-dd",
        "description": "Radiator cold",
        "priority": "P3",
    }
    response = await intake.post("/requests", body, intake.customer())
    assert response.status_code == 201, response.text
    assert response.json()["channel"] == "portal"
    await intake.published(response.json()["work_order_id"], "RequestLogged")


async def test_the_portal_hides_other_customers(intake):
    await intake.seed()
    body = {"customer_id": "cust-dd", "site_id": "site-other", "description": "x", "priority": "P3"}
    assert (await intake.post("/requests", body, intake.customer())).status_code == 404
    body["customer_id"] = "cust-other"
    assert (await intake.post("/requests", body, intake.customer())).status_code == 403
    theirs = await intake.log(customer_id="cust-other", site_id="site-other")
    mine = await intake.get(f"/work-orders/{theirs['work_order_id']}", intake.customer())
    assert mine.status_code == 404
    assert (await intake.get("/work-orders", intake.customer())).json() == []
    assert (await intake.get("/sites/site-other", intake.customer())).status_code == 404
    sites = (await intake.get("/sites", intake.customer())).json()
    assert [s["site_id"] for s in sites] == ["site-dd"]


async def test_another_system_logs_and_releases_in_one_call(intake):
    await intake.seed()
    order = await intake.log(channel="api", external_reference="HELPDESK-1", release=True)
    assert order["status"] == "released"
    events = await intake.published(order["work_order_id"], "RequestLogged", "WorkOrderReleased")
    assert events[0].data.external_reference == "HELPDESK-1"
    assert events[1].data.details.required_certifications == ("gas_safe",)


async def test_the_one_shot_asks_for_approval_when_the_job_needs_it(intake):
    await intake.seed()
    order = await intake.log(channel="api", job_type="boiler_replacement", release=True)
    assert order["status"] == "awaiting_approval"
    await intake.published(order["work_order_id"], "RequestLogged", "ApprovalRequested")


def mime(sender: str, message_id: str, attachment: bytes | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@jobstream.example"
    msg["Subject"] = "Boiler fault F28 again"
    msg["Message-ID"] = message_id
    msg.set_content("Hello, the boiler is showing F28 again and the surgery is cold.")
    if attachment is not None:
        msg.add_attachment(
            attachment, maintype="image", subtype="jpeg", filename="boiler front.jpg"
        )
    return msg.as_bytes()


async def post_email(intake, raw: bytes):
    return await intake.client.post(
        "/inbound/email", content=raw, headers=intake.office | {"Content-Type": "message/rfc822"}
    )


async def test_an_email_from_a_known_contact_becomes_a_request_with_its_attachment(intake):
    await intake.seed()
    photo = b"\xff\xd8\xff\xe0 a jpeg of the boiler"
    response = await post_email(
        intake, mime("Priya Shah <priya@dd.example>", "<m1@dd.example>", photo)
    )
    assert response.status_code == 201, response.text
    email = response.json()
    assert email["status"] == "logged"
    (attachment,) = email["attachments"]
    assert attachment["key"] == f"intake/email/{email['email_id']}/01-boiler_front.jpg"
    stored, content_type = await LocalObjectStore(intake.objects_root).get(attachment["key"])
    assert (stored, content_type) == (photo, "image/jpeg")
    (logged,) = await intake.published(email["work_order_id"], "RequestLogged")
    assert logged.data.channel == "email"
    assert logged.data.site.site_id == "site-dd"
    assert logged.data.attachments[0].sha256 == attachment["sha256"]
    assert "F28" in logged.data.description


async def test_the_same_message_delivered_twice_is_one_request(intake):
    await intake.seed()
    raw = mime("priya@dd.example", "<m2@dd.example>")
    first = await post_email(intake, raw)
    second = await post_email(intake, raw)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["work_order_id"] == second.json()["work_order_id"]
    assert len((await intake.get("/work-orders")).json()) == 1


async def test_an_unknown_sender_waits_in_triage_until_the_office_assigns_it(intake):
    await intake.seed()
    raw = mime("stranger@elsewhere.example", "<m3@elsewhere.example>", b"%PDF-1.4 floor plan")
    email = (await post_email(intake, raw)).json()
    assert email["status"] == "triage"
    assert email["triage_reason"] == "sender matches no customer"
    assert email["work_order_id"] is None
    queue = (await intake.get("/inbound/emails", params={"status": "triage"})).json()
    assert [e["email_id"] for e in queue] == [email["email_id"]]

    assign = {
        "customer_id": "cust-dd",
        "site_id": "site-dd",
        "priority": "P2",
        "job_type": "boiler_repair",
    }
    response = await intake.post(f"/inbound/emails/{email['email_id']}/assign", assign)
    assert response.status_code == 200, response.text
    assigned = response.json()
    assert assigned["status"] == "assigned"
    (logged,) = await intake.published(assigned["work_order_id"], "RequestLogged")
    assert logged.data.channel == "email"
    assert logged.data.attachments[0].filename == "boiler front.jpg"
    again = await intake.post(f"/inbound/emails/{email['email_id']}/assign", assign)
    assert again.status_code == 409


async def test_a_triaged_email_can_be_dismissed_and_stays_on_record(intake):
    raw = mime("newsletter@vendor.example", "<m4@vendor.example>")
    email = (await post_email(intake, raw)).json()
    response = await intake.post(
        f"/inbound/emails/{email['email_id']}/dismiss", {"reason": "newsletter"}
    )
    assert response.json()["status"] == "dismissed"
    assert (await intake.get(f"/inbound/emails/{email['email_id']}")).json()[
        "triage_reason"
    ] == "newsletter"


async def test_a_message_without_a_sender_is_refused(intake):
    response = await post_email(intake, b"Subject: hi\r\n\r\nno sender")
    assert response.status_code == 422
    assert "From" in response.json()["detail"][0]["msg"]


async def test_every_endpoint_needs_a_token(intake):
    assert (await intake.client.get("/work-orders")).status_code == 401
    assert (await intake.client.post("/inbound/email", content=b"x")).status_code == 401
    analyst = intake.headers(Role.ANALYST, "ann")
    assert (await intake.post("/requests", {}, analyst)).status_code == 403
