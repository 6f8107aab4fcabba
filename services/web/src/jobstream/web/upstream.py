"""Calls to the five services as the signed-in person.

The front door mints a short-lived token for them (RS256, the same key set every service
verifies against) and keeps it for the session until it nears its end. The services stay
the judges of what a role may do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httpx

from jobstream.auth import Principal, mint_token
from jobstream.settings import AuthSettings
from jobstream.web.config import SERVICES, WebSettings

# Request headers passed on to a service, and answer headers passed back to the browser.
# The device's checksum and clock on an upload travel with it: the service checks the bytes.
FORWARDED_REQUEST_HEADERS = (
    "content-type",
    "if-match",
    "idempotency-key",
    "accept",
    "x-content-sha256",
    "x-device-time",
)
FORWARDED_RESPONSE_HEADERS = (
    "content-type",
    "etag",
    "content-disposition",
    "x-content-sha256",
    "location",
    "retry-after",
)

# Past this many people's tokens, the cache starts afresh (a token is minted again on use).
MAX_CACHED_TOKENS = 10_000


class ServiceUnavailableError(Exception):
    """A service did not answer (down, timed out): say which, never a bare 500."""

    def __init__(self, service: str, reason: str) -> None:
        """Say that ``service`` did not answer, and why (``timed out``, the error's name)."""
        super().__init__(f"{service} is not answering ({reason})")
        self.service = service


@dataclass
class Answer:
    """A service's answer."""

    status: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        """The body as JSON."""
        import json

        return json.loads(self.content)

    @property
    def ok(self) -> bool:
        """2xx."""
        return HTTPStatus.OK <= self.status < HTTPStatus.MULTIPLE_CHOICES

    def detail(self) -> str:
        """The service's error message in words (FastAPI's detail, flattened)."""
        try:
            body = self.json()
        except ValueError:
            return self.content.decode(errors="replace")[:300] or f"HTTP {self.status}"
        detail = body.get("detail") if isinstance(body, dict) else body
        if isinstance(detail, list):
            return "; ".join(
                f"{'.'.join(str(p) for p in d.get('loc', [])[1:]) or 'input'}: {d.get('msg')}"
                for d in detail
                if isinstance(d, dict)
            )
        if isinstance(detail, dict):
            return str(detail.get("error") or detail.get("message") or detail)
        return str(detail)

    def field_errors(self) -> dict[str, str]:
        """A 422's messages by field name (the last part of each ``loc``)."""
        try:
            detail = self.json().get("detail")
        except (ValueError, AttributeError):
            return {}
        errors: dict[str, str] = {}
        if isinstance(detail, list):
            for d in detail:
                loc = [str(p) for p in d.get("loc", []) if p not in ("body", "query", "path")]
                key = ".".join(loc) or "_"
                message = str(d.get("msg", "invalid")).removeprefix("Value error, ")
                errors.setdefault(key, message)
        return errors


class Upstream:
    """One HTTP client per process for the five services."""

    def __init__(self, settings: WebSettings, auth: AuthSettings) -> None:
        """A client with the front door's timeout, minting tokens with ``auth``'s keys."""
        self.settings = settings
        self.auth = auth
        self._client = httpx.AsyncClient(
            timeout=settings.upstream_timeout_s,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )
        self._tokens: dict[tuple[str, str, str | None, str | None], tuple[str, float]] = {}

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()

    def token_for(self, principal: Principal) -> str:
        """A token for ``principal``, reused until a minute before it expires."""
        key = (
            principal.subject,
            principal.role.value,
            principal.technician_id,
            principal.customer_id,
        )
        now = time.time()
        held = self._tokens.get(key)
        if held is not None and held[1] - 60 > now:
            return held[0]
        ttl = self.settings.service_token_ttl_s
        token = mint_token(
            self.auth,
            subject=principal.subject,
            role=principal.role,
            technician_id=principal.technician_id,
            customer_id=principal.customer_id,
            ttl_s=ttl,
            now=now,
        )
        if len(self._tokens) > MAX_CACHED_TOKENS:
            self._tokens.clear()
        self._tokens[key] = (token, now + ttl)
        return token

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        principal: Principal,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """``method path`` on ``service`` as ``principal``."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service}")
        url = f"{self.settings.service_url(service)}/{path.lstrip('/')}"
        sent = {"authorization": f"Bearer {self.token_for(principal)}", **(headers or {})}
        try:
            response = await self._client.request(
                method, url, params=params, json=json, content=content, headers=sent
            )
        except httpx.TimeoutException as exc:
            raise ServiceUnavailableError(service, "timed out") from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailableError(service, type(exc).__name__) from exc
        return Answer(response.status_code, response.headers, response.content)

    async def get(self, service: str, path: str, principal: Principal, **params: Any) -> Answer:
        """GET with query parameters (None values left out)."""
        query = {k: v for k, v in params.items() if v is not None and v != ""}
        return await self.call(service, "GET", path, principal, params=query)

    async def post(
        self,
        service: str,
        path: str,
        principal: Principal,
        body: Any,
        *,
        idempotency_key: str | None = None,
        if_match: str | None = None,
    ) -> Answer:
        """POST a JSON body."""
        headers = {}
        if idempotency_key:
            headers["idempotency-key"] = idempotency_key
        if if_match:
            headers["if-match"] = if_match
        return await self.call(service, "POST", path, principal, json=body, headers=headers)
