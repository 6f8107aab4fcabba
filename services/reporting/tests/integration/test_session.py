"""Signing in to the dashboard with a pasted token: the cookie, where it works, what is refused.

The cookie it sets, where it is accepted (the dashboard and its charts only), and what is
refused.
"""

import re
import time
from http.cookies import SimpleCookie

import httpx
import pytest

from jobstream.auth import Role, mint_token
from jobstream.reporting.api.session import SESSION_COOKIE
from jobstream.reporting.app import definition
from jobstream.service import Role as ProcessRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings, DatabaseSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def app(database_factory):
    """The reporting API over an empty, migrated database."""
    settings = ServiceSettings()
    settings.database = DatabaseSettings(
        DATABASE_URL=database_factory("jobstream.reporting.db:migrations")
    )
    return create_app(definition(), frozenset({ProcessRole.API}), settings)


def client(app, scheme="http"):
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=f"{scheme}://reporting.test"
    )


def token(role=Role.ANALYST, **kw):
    return mint_token(AuthSettings(), subject="someone", role=role, **kw)


def set_cookie(response) -> SimpleCookie:
    cookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie


async def test_signing_in_sets_a_strict_http_only_cookie_that_expires_with_the_token(app):
    async with client(app) as c:
        response = await c.post("/login", data={"token": token(ttl_s=1800)})
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    morsel = set_cookie(response)[SESSION_COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "strict"
    assert morsel["path"] == "/"
    assert not morsel["secure"], "plain http: a Secure cookie would never come back"
    assert 1700 <= int(morsel["max-age"]) <= 1800


async def test_over_https_the_cookie_is_secure(app):
    async with client(app, "https") as c:
        response = await c.post("/login", data={"token": token()})
    assert set_cookie(response)[SESSION_COOKIE]["secure"] is True


async def test_the_cookie_opens_the_dashboard_and_the_charts(app):
    async with client(app) as c:
        await c.post("/login", data={"token": token()})
        page = await c.get("/dashboard")
        chart = await c.get("/charts/backlog.svg")
    assert page.status_code == 200, page.text
    assert 'action="/logout"' in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert chart.status_code == 200


async def test_the_cookie_is_accepted_nowhere_else(app):
    paths = [
        path
        for path, operations in app.openapi()["paths"].items()
        if "get" in operations
        and not path.startswith(("/dashboard", "/charts", "/login"))
        and path not in {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}
    ]
    assert "/kpis" in paths and "/jobs/{work_order_id}" in paths
    async with client(app) as c:
        c.cookies.set(SESSION_COOKIE, token(Role.ADMIN))
        for path in paths:
            response = await c.get(re.sub(r"\{[^}]+\}", "x-1", path))
            assert response.status_code == 401, path


async def test_signing_out_forgets_the_cookie(app):
    async with client(app) as c:
        await c.post("/login", data={"token": token()})
        response = await c.post("/logout")
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert set_cookie(response)[SESSION_COOKIE]["max-age"] == "0"
        assert (await c.get("/dashboard")).status_code == 401


@pytest.mark.parametrize(
    ("name", "value", "status"),
    [
        ("nothing", "", 401),
        ("garbage", "not-a-token", 401),
        ("expired", "expired", 401),
        ("a technician's", "technician", 403),
    ],
)
async def test_a_token_that_may_not_read_reports_sets_no_cookie(app, name, value, status):
    if value == "expired":
        value = token(ttl_s=60, now=time.time() - 3600)
    elif value == "technician":
        value = token(Role.TECHNICIAN, technician_id="tech-1")
    async with client(app) as c:
        response = await c.post("/login", data={"token": value})
    assert response.status_code == status, name
    assert "set-cookie" not in response.headers
    assert 'role="alert"' in response.text  # the form again, with the reason


@pytest.mark.parametrize(
    "target",
    ["https://elsewhere.example/dashboard", "//elsewhere.example/dashboard", "/kpis", "/\\x"],
)
async def test_signing_in_never_leads_off_the_dashboard(app, target):
    async with client(app) as c:
        response = await c.post("/login", data={"token": token(), "next": target})
    assert response.headers["location"] == "/dashboard"


async def test_signing_in_can_lead_to_a_chart(app):
    async with client(app) as c:
        response = await c.post(
            "/login", data={"token": token(), "next": "/charts/rates.svg?as_of=2026-11-09T00:00Z"}
        )
    assert response.headers["location"] == "/charts/rates.svg?as_of=2026-11-09T00:00Z"


async def test_a_sign_in_posted_from_another_site_is_refused(app):
    async with client(app) as c:
        response = await c.post(
            "/login", data={"token": token()}, headers={"Origin": "https://elsewhere.example"}
        )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


async def test_the_form_is_public_and_not_cached(app):
    async with client(app) as c:
        response = await c.get("/login")
    assert response.status_code == 200
    assert '<form method="post" action="/login">' in response.text
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
