"""Every page in a real browser: accessible, and clear about bad input.

axe-core finds no serious or critical violation, and bad input in every form comes back with
a clear message at the field, nothing half-written.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobstream.demo import REQUESTS
from jobstream.testing.waiting import wait_until
from jobstream.testing.web import (
    WebStack,
    axe_violations,
    dispatch_job,
    dispatch_scheduled,
    drag_visit,
    says,
    signed_in_page,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.browser]


async def first_work_order(stack: WebStack) -> str:
    api = stack.api
    response = await api.client.get(f"{stack.url('intake')}/work-orders", headers=api.office)
    rows = response.json()
    if rows:
        return str(rows[0]["work_order_id"])
    return await api.log_and_release(REQUESTS[0])


async def test_every_page_passes_axe(web_stack: WebStack, browser: Any, watch: Any):
    anonymous = await (await browser.new_context()).new_page()
    await anonymous.goto(f"{web_stack.web}/sign-in")
    failures: dict[str, Any] = {}
    if found := await axe_violations(anonymous):
        failures["/sign-in"] = found

    work_order = await first_work_order(web_stack)
    office = await signed_in_page(
        browser, web_stack, "admin", viewport={"width": 1280, "height": 900}
    )
    problems = watch(office)
    for path, ready in (
        ("/board", "#board[data-renders]"),
        ("/office/requests/new?q=dental", "main"),
        ("/office/requests/new?customer_id=cust-deansgate-dental", "#request-form"),
        ("/office/work-orders", "main"),
        (f"/office/work-orders/{work_order}", "main"),
        ("/office/emails", "main"),
        ("/office/approvals", "main"),
        ("/office/device-actions", "main"),
        ("/admin/accounts", "main"),
        ("/admin/accounts/dispatcher", "main"),
        ("/account/password", "main"),
        ("/dashboard", "body"),
    ):
        await office.goto(web_stack.web + path)
        await office.wait_for_selector(ready)
        if found := await axe_violations(office):
            failures[path] = found
    # A page in an error state: the call form sent empty.
    await office.goto(f"{web_stack.web}/office/requests/new?customer_id=cust-deansgate-dental")
    await office.click("#check-request")
    await office.wait_for_selector(".error")
    if found := await axe_violations(office):
        failures["log a call, with errors"] = found
    # The board's move dialog open.
    await office.goto(f"{web_stack.web}/board")
    await office.wait_for_selector("#board[data-renders]")
    visits = office.locator(".visit, .card")
    if await visits.count():
        await visits.first.click()
        await office.wait_for_selector("#job-dialog[open]")
        if found := await axe_violations(office):
            failures["board, move dialog"] = found
    # A technician's account on an office page: the page that says why not.
    tech = await signed_in_page(browser, web_stack, "tech")
    await tech.goto(f"{web_stack.web}/board")
    if found := await axe_violations(tech):
        failures["403 page"] = found
    # A phone's width.
    narrow = await signed_in_page(
        browser, web_stack, "dispatcher", viewport={"width": 390, "height": 844}
    )
    await narrow.goto(f"{web_stack.web}/office/work-orders")
    if found := await axe_violations(narrow):
        failures["work orders at 390 px"] = found
    assert not failures, failures
    assert not problems, problems


async def test_the_call_form_says_what_is_missing_at_each_field_and_logs_nothing(
    web_stack: WebStack, browser: Any
):
    page = await signed_in_page(browser, web_stack, "dispatcher")
    before = await count(web_stack, "/work-orders")
    await page.goto(f"{web_stack.web}/office/requests/new?customer_id=cust-deansgate-dental")
    await page.click("#check-request")
    await page.wait_for_selector("#description-error")
    for field, words in (
        ("site_id", "choose the site"),
        ("priority", "choose a priority"),
        ("description", "say what the caller reports"),
    ):
        assert words in await page.inner_text(f"#{field}-error")
        assert await page.get_attribute(f"#{field}", "aria-invalid") == "true"
    # A description the service refuses (too long) comes back at its field too.
    await page.select_option("#site_id", "site-deansgate-dental")
    await page.select_option("#priority", "P3")
    await page.fill("#description", "x" * 5001)
    await page.click("#check-request")
    await page.wait_for_selector("#description-error")
    assert re.search(r"at most|characters", await page.inner_text("#description-error"))
    assert await count(web_stack, "/work-orders") == before, "nothing was logged"


async def test_the_inline_customer_and_site_forms_refuse_bad_input_at_the_field(
    web_stack: WebStack, browser: Any
):
    page = await signed_in_page(browser, web_stack, "dispatcher")
    customers = await count(web_stack, "/customers")
    response = await page.goto(f"{web_stack.web}/office/requests/new?q=nobody-matches-this")
    assert response.status == 200, await page.content()
    await page.click("summary:has-text('New customer')")
    await page.fill("#name", "Half A Customer")
    await page.click("button:has-text('Add customer')")
    await page.wait_for_selector("#billing_address-error")
    assert await count(web_stack, "/customers") == customers

    sites = await count(web_stack, "/sites")
    await page.goto(f"{web_stack.web}/office/requests/new?customer_id=cust-deansgate-dental")
    await page.click("summary:has-text('New site')")
    await page.fill("#name", "Annexe")
    await page.fill("#address", "16 Deansgate, Manchester M3 2BW")
    await page.fill("#lat", "north-ish")
    await page.fill("#lon", "-2.25")
    await page.click("button:has-text('Add site')")
    await page.wait_for_selector("#lat-error")
    assert "decimal degrees" in await page.inner_text("#lat-error")
    assert await count(web_stack, "/sites") == sites


async def test_account_forms_refuse_bad_input_at_the_field(web_stack: WebStack, browser: Any):
    page = await signed_in_page(browser, web_stack, "admin")
    await page.goto(f"{web_stack.web}/admin/accounts")
    name = f"z{uuid.uuid4().hex[:6]}"
    await page.fill("#username", "x")
    await page.fill("#display_name", "Zed")
    await page.select_option("#role", "technician")
    await page.fill("#password", "short")
    await page.click("button:has-text('Create account')")
    await page.wait_for_selector("#username-error")
    assert "3–64 characters" in await page.inner_text("#username-error")
    await page.fill("#username", name)
    await page.fill("#password", "a password long enough")
    await page.click("button:has-text('Create account')")
    await page.wait_for_selector("#technician_id-error")
    assert "must name its technician" in await page.inner_text("#technician_id-error")
    assert name not in await page.inner_text("table.list"), "no account was made"

    await page.goto(f"{web_stack.web}/admin/accounts/analyst")
    await page.click("button:has-text('Disable account')")
    await page.wait_for_selector("#reason-error")

    await page.goto(f"{web_stack.web}/account/password")
    await page.fill("#current_password", "whatever it is")
    await page.fill("#new_password", "one new password")
    await page.fill("#repeat_password", "another new password")
    await page.click("button:has-text('Change password')")
    await page.wait_for_selector("#repeat_password-error")


async def test_forcing_a_move_asks_for_the_reason_and_records_it(web_stack: WebStack, browser: Any):
    # A P1 leak's plumber sets off: the visit is under way, so it is frozen and moving it
    # is a deliberate override that needs a reason. (Set off on the device rather than
    # waiting for the departure time to pass, which late in the evening is tomorrow.)
    request = next(r for r in REQUESTS if r["job_type"] == "leak_repair")
    work_order_id = await web_stack.api.log_and_release(
        {**request, "description": f"Frozen leak {uuid.uuid4().hex[:6]}"}
    )
    job = await wait_until(
        lambda: dispatch_scheduled(web_stack, work_order_id), timeout=20, message="scheduled"
    )
    await set_off(web_stack, work_order_id, job["technician_id"])
    other = "tech-chen" if job["technician_id"] == "tech-amir" else "tech-amir"
    start = datetime.fromisoformat(job["window_start"])
    page = await signed_in_page(
        browser, web_stack, "dispatcher", viewport={"width": 1440, "height": 900}
    )
    day = start.astimezone(ZoneInfo("Europe/London")).date().isoformat()
    await page.goto(f"{web_stack.web}/board?day={day}")
    await page.locator(f'.visit[data-work-order-id="{work_order_id}"]').wait_for()
    await drag_visit(page, work_order_id, other, start + timedelta(minutes=30))
    await says(page, "frozen")
    await page.locator("#force-dialog[open]").wait_for()
    await page.click("#force-dialog button:has-text('Move anyway')")
    assert "Say why" in await page.inner_text("#force-error")
    assert await page.get_attribute("#force-reason", "aria-invalid") == "true"
    assert (await dispatch_job(web_stack, work_order_id))["technician_id"] == job["technician_id"]
    await page.fill("#force-reason", "Amir is stuck in traffic; Chen is next door")
    await page.click("#force-dialog button:has-text('Move anyway')")
    await says(page, "forced, reason recorded")
    moved = await dispatch_job(web_stack, work_order_id)
    assert moved["technician_id"] == other and moved["forced"]


async def set_off(stack: WebStack, work_order_id: str, technician_id: str) -> None:
    """The technician acknowledges the job on their device and sets off; dispatch sees it."""
    api = stack.api
    device = api.technician(technician_id)
    field = f"{stack.url('fieldupdates')}/jobs/{work_order_id}"

    async def on_device() -> bool:
        return (await api.client.get(field, headers=device)).status_code == HTTPStatus.OK

    await wait_until(on_device, timeout=20, message="on the technician's device")
    eta = (datetime.now(UTC) + timedelta(minutes=20)).isoformat()
    for step, body in (("acknowledge", {}), ("travel", {"eta": eta})):
        response = await api.client.post(f"{field}/{step}", json=body, headers=device)
        assert response.is_success, response.text

    async def en_route() -> bool:
        return (await dispatch_job(stack, work_order_id)).get("field_status") == "en_route"

    await wait_until(en_route, timeout=20, message="dispatch sees the technician en route")


async def count(stack: WebStack, path: str) -> int:
    api = stack.api
    response = await api.client.get(
        f"{stack.url('intake')}{path}", params={"limit": 500}, headers=api.office
    )
    response.raise_for_status()
    return len(response.json())


async def test_the_accessibility_check_does_find_violations(browser: Any):
    """The harness itself: a page with an unlabelled field and an image without alt text."""
    page = await (await browser.new_context()).new_page()
    await page.set_content('<html><body><img src="data:,"><input type="text"></body></html>')
    found = {v["id"] for v in await axe_violations(page)}
    assert {"image-alt", "label"} <= found
