"""The dashboard renders its charts in a real headless Chromium; charts also as SVG and PNG."""

import asyncio
import os
import shutil
import socket
import xml.etree.ElementTree as ET

import httpx
import pytest
import uvicorn

from jobstream.auth import Role, mint_token
from jobstream.reporting.app import definition
from jobstream.service import Role as ProcessRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings, DatabaseSettings

pytestmark = pytest.mark.integration

AS_OF = "2026-11-09T00:00:00Z"
CHROMIUM = os.environ.get("JOBSTREAM_CHROMIUM", "/usr/bin/chromium")


def analyst_token():
    return mint_token(AuthSettings(), subject="analyst", role=Role.ANALYST)


def auth():
    return {"Authorization": f"Bearer {analyst_token()}"}


def app_for(engine):
    settings = ServiceSettings()
    settings.database = DatabaseSettings(DATABASE_URL=engine.url.render_as_string(False))
    return create_app(definition(), frozenset({ProcessRole.API}), settings)


@pytest.fixture
async def served(project, week):
    """The reporting API on a real port, over the projected week."""
    engine, _topics, _story = await project(week.events)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app_for(engine), host="127.0.0.1", port=port, log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_the_dashboard_draws_every_chart_in_a_real_browser(served):
    from playwright.async_api import async_playwright

    assert shutil.which(CHROMIUM), (
        f"no Chromium at {CHROMIUM}: apt-get install chromium (CI's .ci/run does)"
    )
    problems: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            # No header: the analyst signs in through the form, as in any browser.
            context = await browser.new_context()
            page = await context.new_page()
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
            await page.goto(f"{served}/login?next=/dashboard%3Fas_of%3D{AS_OF}")
            await page.fill("#token", analyst_token())
            async with page.expect_navigation() as landed:
                await page.click("button[type=submit]")
            response = await landed.value
            assert response is not None and response.status == 200
            assert page.url == f"{served}/dashboard?as_of={AS_OF}"
            charts = await page.eval_on_selector_all(
                "figure[id^=chart-] svg",
                """svgs => svgs.map(svg => {
                    const box = svg.getBoundingClientRect();
                    return {id: svg.parentElement.id, width: box.width, height: box.height,
                            shapes: svg.querySelectorAll('path, rect, use').length};
                })""",
            )
            tiles = await page.inner_text(".tiles")
            async with page.expect_navigation():
                await page.click(".signout button")
            assert page.url == f"{served}/login"
            # The browser's cookies no longer open the dashboard.
            after = await context.request.get(f"{served}/dashboard")
            assert after.status == 401
        finally:
            await browser.close()
    assert problems == []
    assert [c["id"] for c in charts] == [
        "chart-rates",
        "chart-volume",
        "chart-backlog",
        "chart-utilisation",
    ]
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 100, chart
        assert chart["shapes"] > 20, chart
    assert "First-time fix" in tiles and "Open jobs" in tiles
    # J1 (5) and J2 (2) were rated by then; J3's rating came on the 9th at 10:00.
    assert "Customer satisfaction\n3.50 / 5\n2 ratings · 50 % satisfied" in tiles


@pytest.mark.parametrize("name", ["rates", "volume", "backlog", "utilisation"])
async def test_each_chart_is_an_svg_document(served, name):
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{served}/charts/{name}.svg", params={"as_of": AS_OF}, headers=auth()
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


async def test_a_chart_as_png(served):
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{served}/charts/backlog.png", params={"as_of": AS_OF}, headers=auth()
        )
    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_an_unknown_chart_is_a_404(served):
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{served}/charts/nope.svg", headers=auth())
    assert response.status_code == 404
