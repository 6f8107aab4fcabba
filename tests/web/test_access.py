"""Who may open what through the front door, over HTTP against the real processes.

Every page sends a stranger to sign-in, every browser API answers 401; technicians and
customers cannot open the office's pages; cross-site and token-less posts are refused;
sign-out and disabling really end sessions; wrong passwords lock an account; security
headers.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
import pytest_asyncio

from jobstream.testing.web import PASSWORD, WebStack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

OFFICE_PAGES = [
    "/board",
    "/office/requests/new",
    "/office/work-orders",
    "/office/work-orders/wo-none",
    "/office/emails",
    "/office/approvals",
    "/office/device-actions",
]
ADMIN_PAGES = ["/admin/accounts", "/admin/accounts/admin"]
TECHNICIAN_PAGES = ["/tech", "/tech/sw.js"]
CUSTOMER_PAGES = ["/portal", "/portal/requests/new", "/portal/requests/wo-anything"]
SIGNED_IN_PAGES = [
    "/account/password",
    "/dashboard",
    *OFFICE_PAGES,
    *ADMIN_PAGES,
    *TECHNICIAN_PAGES,
    *CUSTOMER_PAGES,
]


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} in the page"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    form = await client.get("/sign-in")
    return await client.post(
        "/sign-in",
        data={"username": username, "password": password, "guard": hidden(form.text, "guard")},
    )


@pytest_asyncio.fixture
async def client(web_stack: WebStack) -> Any:
    async with httpx.AsyncClient(base_url=web_stack.web, timeout=15) as c:
        yield c


async def signed_in(web_stack: WebStack, username: str) -> httpx.AsyncClient:
    c = httpx.AsyncClient(base_url=web_stack.web, timeout=15)
    response = await sign_in(c, username)
    assert response.status_code == 303, response.text
    return c


async def csrf_of(c: httpx.AsyncClient) -> str:
    page = await c.get("/account/password")
    return hidden(page.text, "csrf_token")


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
async def test_a_stranger_is_sent_to_sign_in_from_every_page(client, path):
    response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/dispatch/board"), ("POST", "/api/intake/requests"), ("GET", "/live")],
)
async def test_a_stranger_gets_401_from_the_browser_api(client, method, path):
    response = await client.request(method, path)
    assert response.status_code == 401


async def test_the_services_refuse_a_stranger_too(web_stack):
    async with httpx.AsyncClient(timeout=10) as c:
        response = await c.get(f"{web_stack.url('dispatch')}/board")
    assert response.status_code == 401


@pytest.mark.parametrize("username", ["tech", "customer"])
async def test_technicians_and_customers_cannot_open_the_office(web_stack, username):
    c = await signed_in(web_stack, username)
    try:
        for path in OFFICE_PAGES + ADMIN_PAGES + ["/dashboard"]:
            response = await c.get(path)
            assert response.status_code == 403, path
            assert "cannot open this page" in response.text
        # Nor through the browser API: the services judge the role.
        response = await c.get("/api/dispatch/board")
        assert response.status_code == 403
    finally:
        await c.aclose()


@pytest.mark.parametrize("username", ["dispatcher", "customer"])
async def test_only_a_technician_opens_the_technician_app(web_stack, username):
    c = await signed_in(web_stack, username)
    try:
        for path in TECHNICIAN_PAGES:
            assert (await c.get(path)).status_code == 403, path
    finally:
        await c.aclose()


@pytest.mark.parametrize("username", ["dispatcher", "tech"])
async def test_only_a_customer_opens_the_portal(web_stack, username):
    c = await signed_in(web_stack, username)
    try:
        for path in CUSTOMER_PAGES:
            assert (await c.get(path)).status_code == 403, path
    finally:
        await c.aclose()


async def test_a_portal_form_without_its_token_is_refused(web_stack):
    c = await signed_in(web_stack, "customer")
    try:
        form = {"site_id": "site-deansgate-dental", "description": "x", "priority": "P3"}
        refused = await c.post("/portal/requests/new", data={**form, "csrf_token": "nope"})
        assert refused.status_code == 403
        rating = await c.post("/portal/requests/wo-x/rating", data={"score": "5"})
        assert rating.status_code == 403
    finally:
        await c.aclose()


async def test_a_dispatcher_cannot_manage_accounts(web_stack):
    c = await signed_in(web_stack, "dispatcher")
    try:
        assert (await c.get("/admin/accounts")).status_code == 403
        assert (await c.get("/board")).status_code == 200
    finally:
        await c.aclose()


async def test_a_cross_site_form_post_is_refused(web_stack):
    c = await signed_in(web_stack, "admin")
    try:
        token = await csrf_of(c)
        username = f"x{uuid.uuid4().hex[:8]}"
        form = {
            "csrf_token": token,
            "username": username,
            "display_name": "Mallory",
            "role": "admin",
            "password": "a long enough password",
        }
        forged = await c.post(
            "/admin/accounts", data=form, headers={"origin": "https://evil.example"}
        )
        assert forged.status_code == 403
        assert "cross-site" in forged.text
        without_token = await c.post("/admin/accounts", data={**form, "csrf_token": "nope"})
        assert without_token.status_code == 403
        listing = await c.get("/admin/accounts")
        assert username not in listing.text, "nothing was created"
        # The browser API's state-changing calls need the header token as well.
        api = await c.post("/api/dispatch/plan/optimise", json={"day": "2026-12-02"})
        assert api.status_code == 403
    finally:
        await c.aclose()


async def test_a_sign_in_form_from_another_site_is_refused(client):
    form = await client.get("/sign-in")
    response = await client.post(
        "/sign-in",
        data={"username": "admin", "password": PASSWORD, "guard": hidden(form.text, "guard")},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert "jobstream-session" not in response.headers.get("set-cookie", "")


async def test_the_session_cookie_is_http_only_and_same_site(client):
    response = await sign_in(client, "dispatcher")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "jobstream-session=" in cookie


async def test_sign_out_really_ends_the_session(web_stack):
    c = await signed_in(web_stack, "analyst")
    cookies = dict(c.cookies)
    token = await csrf_of(c)
    out = await c.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 303
    async with httpx.AsyncClient(base_url=web_stack.web, cookies=cookies, timeout=10) as replay:
        response = await replay.get("/dashboard")
    assert response.status_code == 303, "the old cookie signs nobody in"
    await c.aclose()


async def test_wrong_passwords_lock_an_account_until_an_admin_resets_it(web_stack, client):
    username = f"lock{uuid.uuid4().hex[:6]}"
    web_stack.web_command(
        "accounts", "create", username, "--role", "analyst", "--name", "L", "--keep-password"
    )
    for _ in range(5):
        wrong = await sign_in(client, username, "not the password at all")
        assert wrong.status_code == 401
        assert "Wrong username or password" in wrong.text
    locked = await sign_in(client, username)
    assert locked.status_code == 401 and "locked until" in locked.text
    web_stack.web_command("accounts", "reset-password", username)
    unlocked = await sign_in(client, username)
    assert unlocked.status_code == 303
    assert unlocked.headers["location"] == "/account/password", "a reset password is changed first"


async def test_a_disabled_account_is_signed_out_and_cannot_sign_in(web_stack):
    username = f"gone{uuid.uuid4().hex[:6]}"
    web_stack.web_command(
        "accounts", "create", username, "--role", "dispatcher", "--name", "G", "--keep-password"
    )
    user = await signed_in(web_stack, username)
    assert (await user.get("/board")).status_code == 200
    web_stack.web_command("accounts", "disable", username, "--reason", "left the company")
    assert (await user.get("/board")).status_code == 303, "the session ended with the account"
    again = await sign_in(user, username)
    assert again.status_code == 401 and "disabled" in again.text
    await user.aclose()


async def test_every_answer_carries_the_security_headers(client):
    response = await client.get("/sign-in")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def test_the_published_keys_verify_the_tokens_the_front_door_mints(web_stack, client):
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert jwks["keys"] and all("d" not in k for k in jwks["keys"])
    # A signed-in dispatcher's call reaches dispatch, which verified the front door's token.
    c = await signed_in(web_stack, "dispatcher")
    try:
        board = await c.get("/api/dispatch/board")
        assert board.status_code == 200 and "technicians" in board.json()
    finally:
        await c.aclose()
