"""The customer's portal on a phone-sized Chromium.

A customer reports a problem with a photo, watches it get booked and the technician's ETA
appear without reloading, downloads the invoice, rates the visit — and the satisfaction KPI
moves. Another customer's request or documents, asked for by URL, are refused.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobstream.demo import DEMO_PHOTO, REQUESTS
from jobstream.testing.waiting import wait_until
from jobstream.testing.web import WebStack, axe_violations, dispatch_scheduled, signed_in_page

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.browser]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
OTHER_CUSTOMER = next(r for r in REQUESTS if r["customer_id"] != "cust-deansgate-dental")
ZONE = ZoneInfo("Europe/London")


async def satisfaction(stack: WebStack) -> dict[str, Any]:
    """Reporting's customer satisfaction (last 30 days) for the boiler-service technician."""
    response = await stack.api.client.get(
        f"{stack.url('reporting')}/kpis",
        params={"group_by": "technician"},
        headers=stack.api.office,
    )
    response.raise_for_status()
    found: dict[str, Any] = response.json()["customer_satisfaction"].get("tech-amir") or {
        "ratings": 0,
        "mean_score": None,
    }
    return found


async def work_the_job(stack: WebStack, work_order_id: str, technician_id: str) -> datetime:
    """The technician's visit through the field API; returns the ETA they gave."""
    device = stack.api.technician(technician_id)
    field = f"{stack.url('fieldupdates')}/jobs/{work_order_id}"

    async def on_device() -> bool:
        return (await stack.api.client.get(field, headers=device)).status_code == 200

    await wait_until(on_device, timeout=30, message="the job on the technician's device")
    eta = (datetime.now(UTC) + timedelta(minutes=42)).replace(second=0, microsecond=0)
    for step, body in (("acknowledge", {}), ("travel", {"eta": eta.isoformat()})):
        response = await stack.api.client.post(f"{field}/{step}", json=body, headers=device)
        assert response.status_code < 300, response.text
    return eta


async def finish_the_job(stack: WebStack, work_order_id: str, technician_id: str) -> None:
    device = stack.api.technician(technician_id)
    field = f"{stack.url('fieldupdates')}/jobs/{work_order_id}"
    for step, body in (
        ("arrive", {}),
        ("start", {}),
        ("time", {"kind": "labour", "minutes": 60}),
    ):
        response = await stack.api.client.post(f"{field}/{step}", json=body, headers=device)
        assert response.status_code < 300, response.text
    await stack.api.fill_job_sheet(field, device)
    response = await stack.api.client.post(
        f"{field}/complete",
        json={"work_done": "Serviced and tested", "first_time_fix": True},
        headers=device,
    )
    assert response.status_code < 300, response.text


async def report_a_problem(page: Any, description: str) -> str:
    """The customer reports a boiler problem with a photo through the form; the work order id."""
    await page.click("text=Report a problem")
    assert await axe_violations(page) == []
    # Sent empty: the form says what is missing, field by field, and keeps nothing.
    await page.click("text=Send the request")
    assert "choose the site" in await page.inner_text("main")
    await page.select_option("#site_id", "site-deansgate-dental")
    await page.fill("#description", description)
    await page.select_option("#priority", "P2")
    await page.select_option("#job_type", "boiler_service")
    await page.set_input_files(
        "#photo", {"name": "boiler.png", "mimeType": "image/png", "buffer": DEMO_PHOTO}
    )
    await page.click("text=Send the request")
    await page.locator("text=your request is logged").wait_for()
    work_order_id: str = page.url.split("/portal/requests/")[1].split("?")[0]
    assert await page.inner_text("#progress-title-" + work_order_id) == "Received"
    # The image loads after the page: wait for it (a loaded image with a width is shown).
    await page.wait_for_function(
        "() => { const img = document.querySelector('.photos img');"
        " return img !== null && img.complete && img.naturalWidth > 0; }",
        timeout=10_000,
    )
    assert await axe_violations(page) == []
    return work_order_id


async def rate_the_visit(page: Any) -> None:
    """Once the job is completed, the customer rates the visit 4/5 in the form that appears."""
    await page.locator("text=How was the visit?").wait_for(timeout=30_000)
    assert await axe_violations(page) == []
    await page.check("input[name=score][value='4']")
    await page.fill("#comment", "Quick, tidy, explained everything")
    await page.click("text=Send the rating")
    await page.locator("text=Thank you for rating the visit").wait_for()
    assert "4/5" in await page.inner_text("main")


async def test_a_customer_follows_a_request_from_report_to_rating(
    web_stack: WebStack, browser: Any, tmp_path: Any
):
    before = await satisfaction(web_stack)
    page = await signed_in_page(browser, web_stack, "customer", **PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    assert page.url.endswith("/portal"), "a customer lands on their portal"
    assert await axe_violations(page) == []
    description = f"Boiler pressure keeps dropping, reset twice {uuid.uuid4().hex[:6]}"
    work_order_id = await report_a_problem(page, description)

    # The office releases it; dispatch books it — the open page shows the window by itself.
    response = await web_stack.api.client.post(
        f"{web_stack.url('intake')}/work-orders/{work_order_id}/release",
        headers=web_stack.api.office,
    )
    assert response.status_code == 200, response.text
    job = await wait_until(
        lambda: dispatch_scheduled(web_stack, work_order_id), timeout=30, message="booked"
    )
    window = page.locator(f"#progress-{work_order_id} .window")
    await window.wait_for(timeout=30_000)
    start = datetime.fromisoformat(job["window_start"]).astimezone(ZONE)
    assert start.strftime("%H:%M") in await window.inner_text()

    eta = await work_the_job(web_stack, work_order_id, job["technician_id"])
    shown = page.locator(f"#progress-{work_order_id} .eta")
    await shown.wait_for(timeout=30_000)
    assert eta.astimezone(ZONE).strftime("%H:%M") in await shown.inner_text()
    assert "On the way" in await page.inner_text(f"#progress-title-{work_order_id}")

    await finish_the_job(web_stack, work_order_id, job["technician_id"])
    invoice_link = page.locator("#documents-section a", has_text="Invoice")
    await invoice_link.wait_for(timeout=45_000)
    async with page.expect_download() as download_info:
        await invoice_link.click()
    pdf = tmp_path / "invoice.pdf"
    await (await download_info.value).save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-"), "the invoice downloads as billing's PDF"

    # Completed: the rating form has appeared in place of the progress line.
    await rate_the_visit(page)

    async def moved() -> dict[str, Any] | None:
        now = await satisfaction(web_stack)
        return now if now["ratings"] == before["ratings"] + 1 else None

    after = await wait_until(moved, timeout=30, message="the satisfaction KPI counts the rating")
    assert after["mean_score"] is not None

    # Rated once: a second rating is refused by intake, and the page says so.
    response = await page.request.post(
        f"{web_stack.web}/api/intake/work-orders/{work_order_id}/rating",
        data={"score": 1, "comment": "again"},
        headers={"x-csrf-token": await page.get_attribute("meta[name=csrf-token]", "content")},
    )
    assert response.status == 409

    await page.goto(f"{web_stack.web}/portal")
    assert description[:40] in await page.inner_text("main")
    assert await axe_violations(page) == []
    assert errors == []


async def test_another_customers_request_and_documents_are_refused(
    web_stack: WebStack, browser: Any
):
    theirs = await web_stack.api.log_and_release(
        {**OTHER_CUSTOMER, "description": f"Theirs {time.time()}"}
    )
    page = await signed_in_page(browser, web_stack, "customer", **PHONE)
    response = await page.goto(f"{web_stack.web}/portal/requests/{theirs}")
    assert response.status == 404
    assert "no request of yours" in await page.inner_text("main")
    for path in (
        f"/portal/requests/{theirs}/photos/0",
        f"/api/intake/work-orders/{theirs}",
        f"/api/intake/work-orders/{theirs}/attachments/0",
        f"/api/billing/invoices?customer_id={OTHER_CUSTOMER['customer_id']}",
    ):
        answer = await page.request.get(f"{web_stack.web}{path}")
        assert answer.status in (403, 404), f"{path} answered {answer.status}"
    listed = await page.request.get(f"{web_stack.web}/api/intake/work-orders")
    assert theirs not in {w["work_order_id"] for w in await listed.json()}
    # Nor may a customer rate someone else's job.
    rated = await page.request.post(
        f"{web_stack.web}/api/intake/work-orders/{theirs}/rating",
        data={"score": 5},
        headers={"x-csrf-token": await page.get_attribute("meta[name=csrf-token]", "content")},
    )
    assert rated.status == 404
