"""Sign-in through a real OpenID Connect provider (Keycloak).

Keycloak is started by this test from its Maven Central distribution. Covered: authorization
code with PKCE, the role and the technician binding from the ID token's claims, refusal
without a role, sign-out at the provider.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from jobstream.simulation.processes import free_port
from jobstream.testing.infra import repo_root
from jobstream.testing.waiting import wait_until
from jobstream.testing.web import WebStack

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.browser]

CLIENT_SECRET = "jobstream-web-test-secret"  # the test realm's, in deploy/local/keycloak/


@pytest.fixture(scope="session")
def keycloak() -> Iterator[str]:
    """Keycloak in dev mode with the test realm imported; its issuer URL."""
    port = free_port()
    started = subprocess.run(
        ["bash", str(repo_root() / "deploy/local/keycloak.sh"), "start", str(port)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert started.returncode == 0, started.stderr[-3000:]
    pid, data = started.stdout.split()[:2]
    try:
        yield f"http://127.0.0.1:{port}/realms/jobstream"
    finally:
        subprocess.run(["kill", "-TERM", pid], check=False)
        shutil.rmtree(data, ignore_errors=True)


def start_front_door(port: int, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "jobstream.web", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest_asyncio.fixture
async def sso_web(web_stack: WebStack, keycloak: str, tmp_path: Any) -> Any:
    """A second front door process on the same database, with the provider configured."""
    port = free_port()
    env = {
        **web_stack.services.env("web"),
        "WEB_OIDC_ISSUER": keycloak,
        "WEB_OIDC_CLIENT_ID": "jobstream-web",
        "WEB_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "WEB_OIDC_LABEL": "Keycloak",
    }
    log = (tmp_path / "sso-web.log").open("wb")
    process = start_front_door(port, env, log)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(timeout=3) as client:

        async def ready() -> bool:
            try:
                return (await client.get(f"{url}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(ready, timeout=60, message="the SSO front door")
    yield url
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)
    log.close()


async def through_keycloak(page: Any, web: str, username: str, password: str) -> None:
    await page.goto(f"{web}/sign-in")
    await page.click("#oidc-sign-in")
    await page.wait_for_selector("#kc-login")
    assert "/realms/jobstream/" in page.url
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#kc-login")
    await page.wait_for_url(f"{web}/**")


async def test_a_dispatcher_signs_in_through_keycloak_and_lands_on_the_board(
    sso_web: str, browser: Any
):
    context = await browser.new_context()
    page = await context.new_page()
    await through_keycloak(page, sso_web, "sso.dispatcher", "sso-dispatcher-pass")
    assert page.url.startswith(f"{sso_web}/board")
    await page.wait_for_selector("#board[data-renders]")
    assert await page.inner_text(".who-role") == "Dispatcher"
    assert await page.inner_text(".who-name") == "Sam Single-Sign-On"

    # Sign-out ends the session here and at the provider, and comes back to sign-in.
    await page.click("button:has-text('Sign out')")
    await page.wait_for_url(f"{sso_web}/sign-in**")
    response = await page.goto(f"{sso_web}/board")
    assert response is not None and "/sign-in" in page.url
    await page.click("#oidc-sign-in")
    await page.wait_for_selector("#kc-login"), "the provider asks again: its session ended too"


async def test_the_technician_binding_comes_from_the_claims(sso_web: str, browser: Any):
    page = await (await browser.new_context()).new_page()
    await through_keycloak(page, sso_web, "sso.technician", "sso-technician-pass")
    response = await page.goto(f"{sso_web}/board")
    assert response is not None and response.status == 403
    assert "technician account cannot open this page" in await page.inner_text("main")
    # The front door calls the services as this technician: their own jobs only.
    jobs = await page.evaluate(
        "async () => (await fetch('/api/fieldupdates/jobs', {credentials: 'same-origin'})).status"
    )
    assert jobs == 200


async def test_a_person_without_a_role_is_not_signed_in(sso_web: str, browser: Any):
    page = await (await browser.new_context()).new_page()
    await through_keycloak(page, sso_web, "sso.norole", "sso-norole-pass")
    assert "/sign-in" in page.url
    assert "carries no Jobstream role" in await page.inner_text("#sign-in-error")
    response = await page.goto(f"{sso_web}/dashboard")
    assert response is not None and "/sign-in" in page.url
