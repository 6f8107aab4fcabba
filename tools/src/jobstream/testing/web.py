"""Browser tests of the web front door.

The six processes (five services and the front door) on real Kafka and PostgreSQL with the
demo's technicians and customers and one account per role, Debian's Chromium, sign-in
through the form, and axe-core.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

import httpx
import pytest
import pytest_asyncio

from jobstream.demo import REQUESTS, Stack, wait_until_ready
from jobstream.simulation.api import SERVICES
from jobstream.simulation.processes import ServiceStack
from jobstream.testing.infra import repo_root

REPO = repo_root()
CHROMIUM = os.environ.get("JOBSTREAM_CHROMIUM", "/usr/bin/chromium")
AXE = REPO / "services/web/frontend/node_modules/axe-core/axe.min.js"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
]

# username → (password, role, binding) of the accounts every browser test may use.
PASSWORD = "correct horse battery"
ACCOUNTS = {
    "admin": ("admin", {}),
    "dispatcher": ("dispatcher", {}),
    "tech": ("technician", {"--technician-id": "tech-amir"}),
    "customer": ("customer", {"--customer-id": "cust-deansgate-dental"}),
    "analyst": ("analyst", {}),
}


@dataclass
class WebStack:
    """The running processes, their URLs and an API client for the services."""

    services: ServiceStack
    api: Stack

    @property
    def web(self) -> str:
        """The front door."""
        return self.services.urls["web"]

    def url(self, service: str) -> str:
        """One service's base URL."""
        return self.services.urls[service]

    def web_command(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        """Run ``jobstream-web …`` against the stack's web database; its output."""
        result = subprocess.run(
            [sys.executable, "-m", "jobstream.web", *args],
            env={**self.services.env("web"), "JOBSTREAM_PASSWORD": PASSWORD, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest_asyncio.fixture(scope="session")
async def web_stack(
    infra: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WebStack]:
    """One stack for every browser test, made once when first asked for.

    Starting six processes is the slow part.
    """
    services = ServiceStack(
        infra,
        tmp_path_factory.mktemp("web-logs"),
        namespace=f"web-{uuid.uuid4().hex[:8]}",
        services=(*SERVICES, "web"),
        extra_env={
            "JOBSTREAM_LOG_LEVEL": "INFO",
            # Every browser test signs in from 127.0.0.1: the per-address limit (20 a
            # minute) would refuse the suite itself. The limit has its own unit test.
            "WEB_SIGN_IN_PER_MINUTE_PER_CLIENT": "1000",
        },
    )
    await services.create()
    # Every service verifies tokens against the front door's published keys, over HTTP, as
    # in a deployment (not the test run's key file).
    services.extra_env["JOBSTREAM_JWKS_URL"] = f"{services.urls['web']}/.well-known/jwks.json"
    services.start_all()
    api = Stack({s: services.urls[s] for s in SERVICES})
    stack = WebStack(services, api)
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await wait_until_ready(client, services.urls, timeout_s=120)
        await api.register_technicians()
        for request in REQUESTS:
            await api.ensure_customer(request)
        for username, (role, binding) in ACCOUNTS.items():
            args = [a for pair in binding.items() for a in pair]
            stack.web_command(
                "accounts",
                "create",
                username,
                "--role",
                role,
                "--name",
                username.title(),
                "--keep-password",
                *args,
            )
        yield stack
    finally:
        await api.close()
        await services.destroy()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium (a browser download by a test tool cannot work here)."""
    assert shutil.which(CHROMIUM), f"no Chromium at {CHROMIUM}: apt-get install chromium"
    return CHROMIUM


@pytest_asyncio.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Any]:
    """One headless Chromium for the session."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=BROWSER_ARGS
        )
        yield launched
        await launched.close()


REFUSAL_LOGGED = "Failed to load resource: the server responded with a status of 4"


class PageProblems(list[str]):
    """Console errors, page errors and failed requests seen on a page."""


@pytest.fixture
def watch() -> Iterator[Any]:
    """Attach to a page: everything that went wrong on it, for the test to assert on."""
    problems = PageProblems()

    def attach(page: Any) -> PageProblems:
        # A refusal the page shows in words (a 409 from the override API) is logged by the
        # browser too; that is the page working, not a problem.
        def on_console(message: Any) -> None:
            expected = message.text.startswith(
                "Failed to load resource: the server responded with a status of 4"
            )
            if message.type == "error" and not expected:
                problems.append(message.text)

        def on_request_failed(request: Any) -> None:
            # The live stream is cut when the page goes: not a failure.
            if "/live" not in request.url:
                problems.append(f"failed {request.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", on_request_failed)
        return problems

    yield attach


async def signed_in_page(
    browser: Any, stack: WebStack, username: str, *, through: str | None = None, **context: Any
) -> Any:
    """A new browser context signed in through the form as ``username``; its page.

    With ``through``, the browser reaches the front door at that origin (a relay).
    """
    ctx = await browser.new_context(**context)
    page = await ctx.new_page()
    await page.goto(f"{through or stack.web}/sign-in")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_load_state("domcontentloaded")
    return page


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    assert AXE.exists(), f"{AXE} missing: run npm ci in services/web/frontend"
    # Evaluated through the browser's debugging protocol: the page's CSP (no inline script)
    # stays on and the page is checked as served.
    await page.evaluate(AXE.read_text())
    result = await page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def says(page: Any, text: str) -> None:
    """Wait until the board's status line says ``text`` (and show what it said instead)."""
    status = page.locator("#board-status")
    try:
        await status.filter(has_text=text).wait_for(timeout=10_000)
    except Exception as exc:
        raise AssertionError(f"the board said {await status.inner_text()!r}, not {text!r}") from exc


async def _box(locator: Any) -> dict[str, float]:
    """The element's box, looked for again briefly while the board redraws.

    The live board redraws its rows when an event arrives, so the element found a moment ago
    may be between two renders: look again briefly.
    """
    for _ in range(50):
        await locator.wait_for()
        box: dict[str, float] | None = await locator.bounding_box()
        if box is not None:
            return box
        await asyncio.sleep(0.1)
    raise AssertionError(f"{locator} has no box on the page")


async def drag_visit(page: Any, work_order_id: str, technician_id: str, at: datetime) -> None:
    """Drag the visit onto ``technician_id``'s row so that it starts at ``at``."""
    visit = page.locator(f'.visit[data-work-order-id="{work_order_id}"]')
    lane = page.locator(f'.tl-row[data-technician-id="{technician_id}"] .tl-lane')
    box, lane_box = await _box(visit), await _box(lane)
    bounds = await page.evaluate(
        "() => [Number(document.getElementById('timeline').dataset.rangeStart),"
        " Number(document.getElementById('timeline').dataset.rangeEnd)]"
    )
    fraction = (at.timestamp() * 1000 - bounds[0]) / (bounds[1] - bounds[0])
    grab_x, grab_y = box["x"] + 3, box["y"] + box["height"] / 2
    target_x = lane_box["x"] + fraction * lane_box["width"] + 3
    await page.mouse.move(grab_x, grab_y)
    await page.mouse.down()
    await page.mouse.move(grab_x + 20, grab_y + 5, steps=3)
    await page.mouse.move(target_x, lane_box["y"] + lane_box["height"] / 2, steps=10)
    await page.mouse.up()


async def dispatch_scheduled(stack: WebStack, work_order_id: str) -> dict[str, Any] | None:
    """Dispatch's view of the job once it has a planned window; None before, or if not found."""
    response = await stack.api.client.get(
        f"{stack.url('dispatch')}/jobs/{work_order_id}", headers=stack.api.office
    )
    if response.status_code != HTTPStatus.OK or not response.json().get("window_start"):
        return None
    job: dict[str, Any] = response.json()
    return job


async def dispatch_job(stack: WebStack, work_order_id: str) -> dict[str, Any]:
    """Dispatch's view of the job; an error answer raises."""
    response = await stack.api.client.get(
        f"{stack.url('dispatch')}/jobs/{work_order_id}", headers=stack.api.office
    )
    response.raise_for_status()
    job: dict[str, Any] = response.json()
    return job
