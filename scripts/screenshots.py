"""Screenshots of the pages for README (docs/screenshots/), from a running `make up`.

    uv run python scripts/screenshots.py [--base http://127.0.0.1:8000] [--out docs/screenshots]

Signs in with the demo accounts through the real sign-in form, in Debian's Chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = os.environ.get("JOBSTREAM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"]


async def sign_in(page: Page, base: str, username: str, password: str) -> None:
    await page.goto(f"{base}/sign-in")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_load_state("networkidle")


async def main(base: str, out: Path) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        await office_pages(browser, base, out)
        await admin_pages(browser, base, out)
        await technician_app(browser, base, out)
        await customer_portal(browser, base, out)
        await browser.close()


async def office_pages(browser: Browser, base: str, out: Path) -> None:
    """The sign-in form, then the dispatcher's board, office pages and one work order."""
    office = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await office.new_page()
    await page.goto(f"{base}/sign-in")
    await page.screenshot(path=out / "sign-in.png")
    await sign_in(page, base, "dan.dispatch", "demo-dispatch-pass")
    await page.goto(f"{base}/board")
    await page.wait_for_selector("#board[data-renders]")
    await page.wait_for_timeout(500)
    await page.screenshot(path=out / "board.png", full_page=True)
    for name, path in (
        ("log-a-call", "/office/requests/new?q=dental"),
        ("work-orders", "/office/work-orders"),
        ("email-triage", "/office/emails"),
        ("approvals", "/office/approvals"),
        ("device-actions", "/office/device-actions"),
    ):
        await page.goto(base + path)
        await page.screenshot(path=out / f"{name}.png", full_page=True)
    first = page.locator("table.list tbody a").first
    await page.goto(f"{base}/office/work-orders")
    if await first.count():
        await first.click()
        await page.wait_for_load_state("networkidle")
        await page.screenshot(path=out / "work-order.png", full_page=True)
    await office.close()


async def admin_pages(browser: Browser, base: str, out: Path) -> None:
    """The administrator's accounts page."""
    admin = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await admin.new_page()
    await sign_in(page, base, "olivia.admin", "demo-admin-pass")
    await page.goto(f"{base}/admin/accounts")
    await page.screenshot(path=out / "accounts.png", full_page=True)
    await admin.close()


async def technician_app(browser: Browser, base: str, out: Path) -> None:
    """The technician's app on a phone: the day's jobs, then one job opened."""
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = await phone.new_page()
    await sign_in(page, base, "amir.tech", "demo-technician-pass")
    await page.wait_for_selector("#tech[data-synced-at]")
    await page.screenshot(path=out / "tech-jobs.png", full_page=True)
    card = page.locator("a.job-card").first
    if await card.count():
        await card.click()
        await page.wait_for_selector("article.job")
        await page.screenshot(path=out / "tech-job.png", full_page=True)
    await phone.close()


async def customer_portal(browser: Browser, base: str, out: Path) -> None:
    """The customer's portal on a phone: their requests and documents, one request, the form.

    The request shown is a completed one where there is one (the demo's jobs are completed,
    so it invites a rating).
    """
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = await phone.new_page()
    await sign_in(page, base, "priya.customer", "demo-customer-pass")
    await page.goto(f"{base}/portal")
    await page.screenshot(path=out / "portal-requests.png", full_page=True)
    card = page.locator("a.request-card.done").first
    if not await card.count():
        card = page.locator("a.request-card").first
    if await card.count():
        await card.click()
        await page.wait_for_load_state("networkidle")
        await page.screenshot(path=out / "portal-request.png", full_page=True)
    await page.goto(f"{base}/portal/requests/new")
    await page.screenshot(path=out / "portal-new-request.png", full_page=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="docs/screenshots", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(args.base, args.out))
    for shot in sorted(args.out.glob("*.png")):
        print(shot)
