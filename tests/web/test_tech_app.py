"""The technician's app on a phone-sized Chromium, with the signal lost for a whole job.

The app opens from its service worker with no network, the job is worked through on the
device (status flow, job sheet blocking completion, time, material, photo, signature), and
when the signal returns every action reaches the server exactly once — the job is completed,
the invoice issued. A job the office took away meanwhile is marked so on the phone and what
was recorded on it comes back refused, with the reason, not lost.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from jobstream.demo import REQUESTS
from jobstream.testing.signal import PhoneSignal
from jobstream.testing.waiting import wait_until
from jobstream.testing.web import (
    WebStack,
    axe_violations,
    dispatch_scheduled,
    signed_in_page,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.browser]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
BOILER = next(r for r in REQUESTS if r["job_type"] == "boiler_service")


def camera_photo(width: int = 2400, height: int = 1200) -> bytes:
    """A PNG as big as a phone camera's picture (striped, so it is not trivially small)."""
    row = bytes([0]) + bytes((x * 7 + y) % 256 for x in range(width) for y in (0, 80, 160))
    raw = row * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height from a JPEG's start-of-frame segment."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no frame in the JPEG")


@pytest_asyncio.fixture
async def signal(web_stack: WebStack) -> AsyncIterator[PhoneSignal]:
    relay = PhoneSignal(web_stack.web)
    await relay.regain()
    yield relay
    await relay.lose()


async def boiler_job_for_amir(stack: WebStack, note: str) -> str:
    """A released boiler service: only Amir holds the gas qualification, so it is his."""
    work_order_id = await stack.api.log_and_release({**BOILER, "description": note})
    job = await wait_until(
        lambda: dispatch_scheduled(stack, work_order_id), timeout=30, message="boiler planned"
    )
    assert job["technician_id"] == "tech-amir"
    return work_order_id


async def field_view(stack: WebStack, work_order_id: str) -> dict[str, Any]:
    response = await stack.api.client.get(
        f"{stack.url('fieldupdates')}/jobs/{work_order_id}", headers=stack.api.office
    )
    response.raise_for_status()
    view: dict[str, Any] = response.json()
    return view


async def answer(page: Any, item_id: str, value: str | None = None, photo: bytes = b"") -> None:
    item = page.locator(f'[data-item-id="{item_id}"]')
    control = item.locator("[name=answer]")
    if photo:
        await control.set_input_files(
            {"name": "plate.png", "mimeType": "image/png", "buffer": photo}
        )
    elif await control.evaluate("e => e.tagName") == "SELECT":
        await control.select_option(value)
    else:
        await control.fill(value or "")
    await item.locator("button[type=submit]").click()
    await page.locator(f'[data-item-id="{item_id}"] .answered').wait_for()


async def open_section(page: Any, title: str) -> Any:
    details = page.locator("details", has=page.locator(f"summary:text-is('{title}')"))
    await details.locator("summary").click()
    return details


async def acknowledge_on_the_phone(page: Any, work_order_id: str) -> None:
    """The job opened on the phone and acknowledged there."""
    await page.evaluate(f"location.hash = 'job/{work_order_id}'")
    await page.click("[data-action=acknowledge]")
    await page.locator(
        f'article.job[data-work-order-id="{work_order_id}"][data-status="acknowledged"]'
    ).wait_for()


async def take_away(stack: WebStack, work_order_id: str) -> None:
    """The office takes the job away from its technician (the customer rebooked)."""
    response = await stack.api.client.post(
        f"{stack.url('dispatch')}/jobs/{work_order_id}/unassign",
        json={"reason": "customer rebooked for next week"},
        headers=stack.api.office,
    )
    response.raise_for_status()


async def refused_on_the_phone(page: Any) -> None:
    """The phone lists the refused acknowledgement and marks the job as no longer theirs."""
    await page.locator(".refused li").first.wait_for(timeout=15_000)
    refused = await page.inner_text(".refused")
    assert "Acknowledge" in refused, refused
    assert await page.locator("text=This job is no longer yours").count() == 1


async def a_new_job_reaches_the_open_app(page: Any, stack: WebStack) -> None:
    """A job released now shows on the open job list by itself (the live stream)."""
    started = time.monotonic()
    fresh = await boiler_job_for_amir(stack, f"Radiator cold {time.time()}")
    await page.evaluate("location.hash = ''")
    await page.locator(f'a.job-card[data-work-order-id="{fresh}"]').wait_for(timeout=30_000)
    print(f"new job on the phone {time.monotonic() - started:.2f} s after release")


async def work_the_job_on_the_phone(page: Any, work_order_id: str) -> None:
    """The job worked through on the phone: status flow, job sheet, time, material, signature."""
    job = page.locator(f'article.job[data-work-order-id="{work_order_id}"]')
    assert "Gas Safe" in await job.locator(".safety").inner_text(), "the job pack is on the phone"
    await page.click("[data-action=acknowledge]")
    await page.fill("input[name=eta_minutes]", "25")
    await page.click("text=Set off")
    await page.click("[data-action=arrive]")
    await page.click("[data-action=start_work]")
    await page.locator('article.job[data-status="in_progress"]').wait_for()

    # The job sheet blocks completion on the phone, as the server would.
    complete = page.locator("form[data-step=complete] button[type=submit]")
    assert await complete.is_disabled()
    assert "Operating pressure" in await page.inner_text("#complete-blocked")
    await answer(page, "operating_pressure", "20.5")
    await answer(page, "flue_check", "yes")
    await answer(page, "co_reading", "0.0021")
    await answer(page, "co_alarm", "yes")
    await answer(page, "appliance_photo", photo=camera_photo())

    await record_time_and_material(page)
    await sign(page, "Dr Jane Okoro")

    await page.fill("textarea[name=work_done]", "Serviced; flue and pressure tested")
    assert not await complete.is_disabled()
    await complete.click()
    await page.locator('article.job[data-status="completed"]').wait_for()


async def record_time_and_material(page: Any) -> None:
    """75 minutes of labour and an isolating valve, recorded through the job's forms."""
    time_form = await open_section(page, "Time")
    await time_form.locator("input[name=minutes]").fill("75")
    await time_form.locator("button[type=submit]").click()
    material = await open_section(page, "Material used")
    await material.locator("input[name=sku]").fill("VALVE-15")
    await material.locator("input[name=description]").fill("15 mm isolating valve")
    await material.locator("input[name=quantity]").fill("1")
    await material.locator("button[type=submit]").click()
    await page.locator(".records li", has_text="waiting to send").first.wait_for()


async def sign(page: Any, signer: str) -> None:
    """A signature drawn on the job's canvas and saved with ``signer``'s name."""
    canvas = page.locator("canvas.signature")
    await canvas.scroll_into_view_if_needed()  # the mouse moves in the viewport's coordinates
    box = await canvas.bounding_box()
    await page.mouse.move(box["x"] + 20, box["y"] + 60)
    await page.mouse.down()
    for step in range(1, 12):
        await page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 60 + (step % 3) * 20)
    await page.mouse.up()
    await page.fill("input[name=signer_name]", signer)
    await page.click("text=Save signature")
    await page.locator(f"text=Signed by {signer}").wait_for()


async def second_tab(page: Any, url: str, listener: Any) -> Any:
    """Another tab of the app on the same phone, opened at ``url`` with no signal."""
    other = await page.context.new_page()
    other.on("request", listener)
    await other.goto(url)
    await other.wait_for_selector("#tech[data-connection=offline]")
    return other


async def completed_once_with_everything(stack: WebStack, work_order_id: str) -> None:
    """The server holds the job completed once, with everything recorded on the phone."""
    done = await field_view(stack, work_order_id)
    assert done["status"] == "completed"
    assert done["time"]["labour_minutes"] == 75
    assert len(done["materials"]) == 1
    assert done["checklist"]["missing_required"] == []
    assert [s["signer_name"] for s in done["signatures"]] == ["Dr Jane Okoro"]
    kinds = Counter(a["kind"] for a in done["attachments"])
    assert kinds == {"photo": 1, "signature": 1}
    statuses = [s["status"] for s in done["status_history"]]
    assert statuses.count("completed") == 1 and statuses.count("in_progress") == 1

    # The photo was made smaller on the phone and arrived with its checksum.
    photo = next(a for a in done["attachments"] if a["kind"] == "photo")
    download = await stack.api.client.get(
        f"{stack.url('fieldupdates')}/jobs/{work_order_id}/attachments/{photo['attachment_id']}",
        headers=stack.api.technician("tech-amir"),
    )
    download.raise_for_status()
    assert max(jpeg_size(download.content)) == 1600


async def replay(page: Any, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each POST /sync body sent again from the page; the server's answers."""
    replies = []
    for body in bodies:
        replies.append(
            await page.evaluate(
                """async (body) => (await fetch('/api/fieldupdates/sync', {method: 'POST',
                   headers: {'content-type': 'application/json', 'x-csrf-token':
                   document.querySelector('meta[name=csrf-token]').content},
                   body: JSON.stringify(body)})).json()""",
                body,
            )
        )
    return replies


async def the_invoice(stack: WebStack, work_order_id: str) -> dict[str, Any]:
    """The invoice billing issued from the completion (billing's view of the job if none)."""

    async def invoiced() -> list[dict[str, Any]]:
        r = await stack.api.client.get(
            f"{stack.url('billing')}/invoices",
            params={"work_order_id": work_order_id},
            headers=stack.api.office,
        )
        return r.json() if r.status_code == 200 else []

    try:
        [invoice] = await wait_until(invoiced, timeout=30, message="invoice issued")
    except TimeoutError:
        state = await stack.api.client.get(
            f"{stack.url('billing')}/billing/jobs/{work_order_id}", headers=stack.api.office
        )
        raise AssertionError(f"no invoice; billing says {state.text}") from None
    return invoice


async def reported_timeline(stack: WebStack, work_order_id: str) -> Counter[str]:
    """Reporting's timeline of the job, counted by event type, once it reaches the invoice."""

    async def reported() -> list[dict[str, Any]]:
        r = await stack.api.client.get(
            f"{stack.url('reporting')}/jobs/{work_order_id}/timeline",
            headers=stack.api.office,
        )
        events = r.json()["events"] if r.status_code == 200 else []
        return events if any(e["event_type"] == "InvoiceIssued" for e in events) else []

    return Counter(e["event_type"] for e in await wait_until(reported, timeout=30))


async def test_a_whole_job_worked_offline_reaches_the_server_once(
    web_stack: WebStack, browser: Any, signal: PhoneSignal
):
    work_order_id = await boiler_job_for_amir(web_stack, f"Annual service {time.time()}")
    taken = await boiler_job_for_amir(web_stack, f"Pressure drop {time.time()}")

    page = await signed_in_page(browser, web_stack, "tech", through=signal.url, **PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    posted: list[dict[str, Any]] = []

    def keep_sync_body(request: Any) -> None:
        if request.url.endswith("/api/fieldupdates/sync"):
            posted.append(request.post_data_json)

    page.on("request", keep_sync_body)
    assert page.url.endswith("/tech"), "a technician lands on their app"
    await page.wait_for_selector("#tech[data-offline-ready=yes]", timeout=30_000)
    card = page.locator(f'a.job-card[data-work-order-id="{work_order_id}"]')
    await card.wait_for(timeout=30_000)
    await page.locator(f'a.job-card[data-work-order-id="{taken}"]').wait_for()
    assert await axe_violations(page) == []

    # No signal from here: the app reopens from the phone alone.
    await signal.lose()
    await page.context.set_offline(True)
    await page.reload()
    await page.wait_for_selector("#tech[data-connection=offline]")
    await card.click()

    await work_the_job_on_the_phone(page, work_order_id)

    # The other job: something recorded on it while the office takes it away.
    await acknowledge_on_the_phone(page, taken)
    pending = int(await page.get_attribute("#tech", "data-pending") or 0)
    # 13 actions and 2 files on the first job, one action on the second.
    assert pending == 16, "every action and both files wait on the phone"
    await take_away(web_stack, taken)

    # A reload with no signal keeps everything.
    await page.reload()
    await page.wait_for_selector("#tech[data-connection=offline]")
    assert int(await page.get_attribute("#tech", "data-pending") or 0) == pending
    before = await field_view(web_stack, work_order_id)
    assert before["status"] == "dispatched", "nothing reached the server while offline"

    # A second tab on the same phone holds the same queue (one IndexedDB per account);
    # when the signal returns both tabs flush it at once.
    other = await second_tab(page, f"{signal.url}/tech", keep_sync_body)
    assert int(await other.get_attribute("#tech", "data-pending") or 0) == pending

    # The signal returns: everything goes, once.
    await signal.regain()
    await page.context.set_offline(False)
    for tab in (page, other):
        await tab.wait_for_selector(
            "#tech[data-pending='0'][data-connection=online]", timeout=30_000
        )
    await other.close()
    await completed_once_with_everything(web_stack, work_order_id)

    # The taken-away job: marked on the phone, its action refused with the reason.
    await refused_on_the_phone(page)

    # Posting the same batches again changes nothing: each action is applied once.
    assert posted, "the phone synced through POST /sync"
    replies = await replay(page, list(posted))  # a copy: the listener sees the replays too
    assert all(r["applied"] == 0 for r in replies), replies

    # The office's side: invoice issued from the completion.
    invoice = await the_invoice(web_stack, work_order_id)
    assert invoice["gross_total_minor"] > 0

    # Reporting's timeline of the job: each step once, from the device's actions.
    timeline = await reported_timeline(web_stack, work_order_id)
    assert timeline["JobCompleted"] == 1 and timeline["SignatureCaptured"] == 1, timeline
    assert timeline["TravelStarted"] == 1 and timeline["MaterialUsed"] == 1, timeline

    # A new job reaches the open app by itself (the live stream, no refresh).
    await a_new_job_reaches_the_open_app(page, web_stack)
    assert await axe_violations(page) == []
    assert errors == []
