"""Every HTTP endpoint of every service refuses a caller without a valid token, whether it
comes as a bearer header or as a browser's session cookie.

The operations are read from each service's OpenAPI document, so an endpoint added
tomorrow is covered without anyone remembering to add it here. Operational endpoints that
must answer a load balancer or a scraper without credentials, and the dashboard's sign-in
form and sign-out, are the only exceptions.
"""

import importlib
import re
import time

import httpx
import jwt
import pytest

from jobstream.auth import Role, mint_token
from jobstream.service import Role as ProcessRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings

SERVICES = ("intake", "dispatch", "fieldupdates", "billing", "reporting")
PUBLIC = {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}
# Reporting's sign-in form (it shows nothing but the form) and sign-out (it only clears the
# cookie); POST /login itself is swept: it refuses a missing or bad token like any route.
PUBLIC_OPERATIONS = {("reporting", "GET", "/login"), ("reporting", "POST", "/logout")}
SESSION_COOKIE = "jobstream_session"
SECRET = "s" * 48


def app_of(service: str):
    definition = importlib.import_module(f"jobstream.{service}.app").definition()
    settings = ServiceSettings()
    settings.auth = AuthSettings(JOBSTREAM_JWT_SECRET=SECRET)
    # API role only: no consumers or relay start, and no route reaches the database
    # before authentication has refused the caller.
    return create_app(definition, frozenset({ProcessRole.API}), settings)


def protected_routes():
    """Every operation of every service's OpenAPI document, but the public ones."""
    for service in SERVICES:
        for path, operations in app_of(service).openapi()["paths"].items():
            if path in PUBLIC:
                continue
            for method in sorted(operations):
                if (service, method.upper(), path) in PUBLIC_OPERATIONS:
                    continue
                yield pytest.param(
                    service, method.upper(), path, id=f"{service} {method.upper()} {path}"
                )


def concrete(path: str) -> str:
    """Fill each path parameter with a plausible id (``/charts/{name}.{fmt}`` too)."""
    return re.sub(r"\{[^}]+\}", "x-1", path)


def bad_tokens() -> dict[str, str]:
    good = AuthSettings(JOBSTREAM_JWT_SECRET=SECRET)
    other = AuthSettings(JOBSTREAM_JWT_SECRET="o" * 48)
    now = time.time()
    claims = {
        "sub": "u",
        "role": "admin",
        "iss": "jobstream",
        "iat": int(now),
        "exp": int(now) + 600,
    }
    return {
        "garbage": "not-a-token",
        "expired": mint_token(good, subject="u", role=Role.ADMIN, ttl_s=60, now=now - 3600),
        "other key": mint_token(other, subject="u", role=Role.ADMIN),
        "wrong audience": jwt.encode({**claims, "aud": "someone-else"}, SECRET, "HS256"),
        "alg none": jwt.encode({**claims, "aud": "jobstream"}, None, "none"),
    }


def test_the_sweep_finds_the_endpoints():
    assert len(list(protected_routes())) >= 5 * 2


@pytest.mark.parametrize(("service", "method", "path"), list(protected_routes()))
async def test_missing_and_invalid_tokens_are_refused(service, method, path):
    transport = httpx.ASGITransport(app=app_of(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        url = concrete(path)
        response = await client.request(method, url)
        assert response.status_code == 401, f"no token: {response.status_code} {response.text}"
        assert response.headers.get("www-authenticate", "").startswith("Bearer")
        for name, token in bad_tokens().items():
            response = await client.request(
                method, url, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 401, f"{name}: {response.status_code} {response.text}"
        for name, token in bad_tokens().items():
            client.cookies.set(SESSION_COOKIE, token)
            response = await client.request(method, url)
            client.cookies.clear()
            assert response.status_code == 401, (
                f"{name} cookie: {response.status_code} {response.text}"
            )
