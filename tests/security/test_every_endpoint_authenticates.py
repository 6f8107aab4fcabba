"""Every HTTP endpoint of every service refuses a caller without a valid token.

That holds whether the token comes as a bearer header or as a browser's session cookie.

The operations are read from each service's OpenAPI document, so an endpoint added
tomorrow is covered without anyone remembering to add it here. Operational endpoints that
must answer a load balancer or a scraper without credentials, and the dashboard's sign-in
form and sign-out, are the only exceptions.
"""

import base64
import hashlib
import hmac
import importlib
import json
import re
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from jobstream.auth import Role, SigningKeys, mint_token
from jobstream.service import Role as ProcessRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings

SERVICES = ("intake", "dispatch", "fieldupdates", "billing", "reporting")
PUBLIC = {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}
# Reporting's sign-in form (it shows nothing but the form) and sign-out (it only clears the
# cookie); POST /login itself is swept: it refuses a missing or bad token like any route.
PUBLIC_OPERATIONS = {("reporting", "GET", "/login"), ("reporting", "POST", "/logout")}
SESSION_COOKIE = "jobstream_session"


def app_of(service: str):
    definition = importlib.import_module(f"jobstream.{service}.app").definition()
    settings = ServiceSettings()
    settings.auth = AuthSettings()
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
    """Tokens a service must refuse: each is wrong in one way only."""
    good = AuthSettings()
    real = SigningKeys.load(good.signing_keys)
    active = real.active_key()
    stranger = SigningKeys.generate()
    now = time.time()
    claims = {
        "sub": "u",
        "role": "admin",
        "iss": good.jwt_issuer,
        "aud": good.jwt_audience,
        "iat": int(now),
        "exp": int(now) + 600,
    }

    def signed(jwk: dict, body: dict, kid: str) -> str:
        return jwt.encode(body, jwt.PyJWK(jwk, "RS256"), "RS256", headers={"kid": kid})

    public_pem = (
        jwt.PyJWK(active, "RS256")
        .key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return {
        "garbage": "not-a-token",
        "expired": mint_token(good, subject="u", role=Role.ADMIN, ttl_s=60, now=now - 3600),
        "unknown key": signed(stranger.active_key(), claims, stranger.active_key()["kid"]),
        # A forger who knows the published kid but not its private key.
        "forged kid": signed(stranger.active_key(), claims, active["kid"]),
        "wrong audience": signed(active, {**claims, "aud": "someone-else"}, active["kid"]),
        "wrong issuer": signed(active, {**claims, "iss": "someone-else"}, active["kid"]),
        # Key confusion: the public key used as an HMAC secret.
        "HS256 with the public key": _hs256(claims, public_pem, active["kid"]),
        "alg none": jwt.encode(claims, None, "none", headers={"kid": active["kid"]}),
    }


def _hs256(claims: dict, secret: bytes, kid: str) -> str:
    """PyJWT rightly refuses to HMAC with a PEM key, so build the token by hand."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = part(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{part(signature)}"


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
