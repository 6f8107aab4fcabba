"""HTTP access to the five services as their users have it.

Bearer tokens, retries that are safe because every mutating call the simulation makes is
idempotent (own ids, Idempotency-Key or device action ids), and a deadline so a dead stack
fails the run instead of hanging it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from jobstream.auth import Role, mint_token
from jobstream.demo import wait_until_ready
from jobstream.settings import AuthSettings

SERVICES = ("intake", "dispatch", "fieldupdates", "billing", "reporting")
DEFAULT_PORTS = dict(zip(SERVICES, range(8001, 8006), strict=True))
# A service restarting, or a database or broker coming back, answers with these for a while.
RETRYABLE = frozenset({500, 502, 503, 504})


class ApiError(RuntimeError):
    """A call that failed for good: the status and the service's answer."""

    def __init__(self, response: httpx.Response) -> None:
        """The error for ``response``: its request, status and the start of its body."""
        super().__init__(
            f"{response.request.method} {response.request.url} -> {response.status_code}: "
            f"{response.text[:600]}"
        )
        self.response = response


class Api:
    """Clients for the five services with tokens per role, minted from the shared secret."""

    def __init__(
        self, urls: dict[str, str], auth: AuthSettings | None = None, retry_for_s: float = 180.0
    ) -> None:
        """Clients for the services at ``urls``, retrying each call for ``retry_for_s``."""
        self.urls = urls
        self.auth = auth or AuthSettings()
        self.retry_for_s = retry_for_s
        self.client = httpx.AsyncClient(timeout=30.0)
        self.calls = 0
        self.retries = 0
        self.office = self._headers(Role.DISPATCHER, "sim-office")
        self.admin = self._headers(Role.ADMIN, "sim-manager")
        self.analyst = self._headers(Role.ANALYST, "sim-analyst")

    @classmethod
    def local(cls, base_host: str = "http://127.0.0.1", **kwargs: Any) -> Api:
        """The five services on the `make up` ports."""
        return cls({s: f"{base_host}:{p}" for s, p in DEFAULT_PORTS.items()}, **kwargs)

    def _headers(
        self,
        role: Role,
        subject: str,
        *,
        technician_id: str | None = None,
        customer_id: str | None = None,
    ) -> dict[str, str]:
        token = mint_token(
            self.auth,
            subject=subject,
            role=role,
            technician_id=technician_id,
            customer_id=customer_id,
            ttl_s=24 * 3600,
        )
        return {"Authorization": f"Bearer {token}"}

    def technician(self, technician_id: str) -> dict[str, str]:
        """A technician's device."""
        return self._headers(Role.TECHNICIAN, technician_id, technician_id=technician_id)

    def customer(self, customer_id: str) -> dict[str, str]:
        """A customer's portal session."""
        return self._headers(Role.CUSTOMER, f"portal-{customer_id}", customer_id=customer_id)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        ok: tuple[int, ...] = (200, 201, 202),
        **kwargs: Any,
    ) -> httpx.Response:
        """One call, retried on connection errors and 5xx until the deadline.

        An answer not in ``ok`` (a 4xx the caller did not expect) raises ApiError.
        """
        url = f"{self.urls[service]}{path}"
        deadline = time.monotonic() + self.retry_for_s
        delay = 0.1
        while True:
            self.calls += 1
            try:
                response = await self.client.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code not in RETRYABLE:
                if response.status_code in ok:
                    return response
                raise ApiError(response)
            if time.monotonic() > deadline:
                if response is not None:
                    raise ApiError(response)
                raise TimeoutError(f"{method} {url}: no answer within {self.retry_for_s}s")
            self.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def get(
        self, service: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        """GET as the office (by default), answering the decoded JSON."""
        response = await self.call(service, "GET", path, headers=headers or self.office, **kwargs)
        return response.json()

    async def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Until every service's /readyz answers 200."""
        await wait_until_ready(self.client, self.urls, timeout_s)
