"""Demo data and the walking-skeleton journey, driven through the services' public APIs.

Used by ``jobstream demo`` (after ``make up``), by the end-to-end test and by the latency
benchmark: one job travels request → schedule → dispatch → completion → invoice → report.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from jobstream.auth import Role, mint_token
from jobstream.settings import AuthSettings

SERVICES = ("intake", "dispatch", "fieldupdates", "billing", "reporting")
DEFAULT_PORTS = dict(zip(SERVICES, range(8001, 8006), strict=True))

# The demo crew is on call round the clock (every day 00:00–23:59), so the demo's jobs are
# schedulable whatever time it runs; a job that would cross midnight starts the next day.
ON_CALL = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]

TECHNICIANS: list[dict[str, Any]] = [
    {
        "technician_id": "tech-amir",
        "name": "Amir Patel",
        "skills": [{"name": "gas_boiler", "level": 4}, {"name": "plumbing", "level": 3}],
        "certifications": [{"name": "gas_safe", "expires_on": "2028-03-31"}],
        "home_base": {"lat": 53.4631, "lon": -2.2913},
        "shifts": ON_CALL,
    },
    {
        "technician_id": "tech-beth",
        "name": "Beth Okafor",
        "skills": [{"name": "electrical", "level": 4}],
        "certifications": [{"name": "18th_edition", "expires_on": "2028-01-31"}],
        "home_base": {"lat": 53.4875, "lon": -2.2901},
        "shifts": ON_CALL,
    },
    {
        "technician_id": "tech-chen",
        "name": "Chen Wei",
        "skills": [{"name": "hvac", "level": 4}, {"name": "plumbing", "level": 2}],
        "certifications": [{"name": "f_gas", "expires_on": "2027-09-30"}],
        "home_base": {"lat": 53.4106, "lon": -2.1575},
        "shifts": ON_CALL,
    },
]

REQUESTS: list[dict[str, Any]] = [
    {
        "customer_id": "cust-deansgate-dental",
        "site": {
            "site_id": "site-deansgate-dental",
            "address": "14 Deansgate, Manchester M3 2BW",
            "location": {"lat": 53.4794, "lon": -2.2479},
        },
        "description": "Boiler locked out, no heating in surgery; fault code F28",
        "priority": "P2",
        "job_type": "boiler_service",
    },
    {
        "customer_id": "cust-salford-lofts",
        "site": {
            "site_id": "site-salford-lofts-b",
            "address": "Block B, Salford Lofts, Salford M5 4WT",
            "location": {"lat": 53.4839, "lon": -2.2707},
        },
        "description": "Water coming through ceiling of flat 12 from flat 22",
        "priority": "P1",
        "job_type": "leak_repair",
    },
    {
        "customer_id": "cust-stockport-offices",
        "site": {
            "site_id": "site-stockport-offices",
            "address": "3 Wellington Rd S, Stockport SK4 1AA",
            "location": {"lat": 53.4084, "lon": -2.1575},
        },
        "description": "Quarterly air handling unit maintenance",
        "priority": "P4",
        "job_type": "hvac_maintenance",
    },
]


@dataclass
class Journey:
    """What one job's trip through the five services produced, with timings."""

    work_order_id: str
    technician_id: str = ""
    invoice: dict[str, Any] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


class Stack:
    """HTTP clients for the five services, with tokens minted from the shared secret."""

    def __init__(self, urls: dict[str, str], auth: AuthSettings | None = None) -> None:
        self.urls = urls
        self.auth = auth or AuthSettings()
        self.client = httpx.AsyncClient(timeout=10.0)
        self.office = self._headers(Role.DISPATCHER, "demo-dispatcher")

    @classmethod
    def local(cls, base_host: str = "http://127.0.0.1") -> Stack:
        """The five services on their default local ports."""
        return cls({s: f"{base_host}:{p}" for s, p in DEFAULT_PORTS.items()})

    def _headers(self, role: Role, subject: str, **scope: str) -> dict[str, str]:
        token = mint_token(self.auth, subject=subject, role=role, **scope)
        return {"Authorization": f"Bearer {token}"}

    def technician(self, technician_id: str) -> dict[str, str]:
        """Headers of a technician's device."""
        return self._headers(Role.TECHNICIAN, technician_id, technician_id=technician_id)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Until every service's /readyz answers 200."""
        deadline = time.monotonic() + timeout_s
        for service, url in self.urls.items():
            while True:
                try:
                    if (await self.client.get(f"{url}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{service} at {url} not ready after {timeout_s}s")
                await asyncio.sleep(0.2)

    async def register_technicians(self) -> None:
        """The demo crew (already registered is fine)."""
        for tech in TECHNICIANS:
            response = await self.client.post(
                f"{self.urls['dispatch']}/technicians", json=tech, headers=self.office
            )
            if response.status_code not in (201, 409):
                response.raise_for_status()

    async def _poll(self, what: str, fetch: Any, timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            found = await fetch()
            if found:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")
            await asyncio.sleep(0.02)

    async def journey(self, request: dict[str, Any], timeout_s: float = 60.0) -> Journey:
        """Log a request, let it be dispatched, complete it on the device, see the invoice."""
        started = time.perf_counter()
        response = await self.client.post(
            f"{self.urls['intake']}/requests", json=request, headers=self.office
        )
        response.raise_for_status()
        journey = Journey(work_order_id=response.json()["work_order_id"])
        wo = journey.work_order_id

        async def dispatched() -> dict[str, Any] | None:
            r = await self.client.get(f"{self.urls['dispatch']}/jobs/{wo}", headers=self.office)
            return r.json() if r.status_code == 200 and r.json()["technician_id"] else None

        job = await self._poll(f"{wo} dispatched", dispatched, timeout_s)
        journey.technician_id = job["technician_id"]
        device = self.technician(journey.technician_id)

        async def on_device() -> bool:
            r = await self.client.get(f"{self.urls['fieldupdates']}/jobs/{wo}", headers=device)
            return r.status_code == 200

        await self._poll(f"{wo} on the technician's device", on_device, timeout_s)
        journey.seconds["request_to_device"] = time.perf_counter() - started
        completed_at = time.perf_counter()
        r = await self.client.post(
            f"{self.urls['fieldupdates']}/jobs/{wo}/complete",
            json={
                "labour_minutes": 75,
                "work_done": "Diagnosed and repaired; tested in front of the customer",
                "first_time_fix": True,
            },
            headers=device,
        )
        r.raise_for_status()

        async def invoiced() -> list[dict[str, Any]]:
            r = await self.client.get(
                f"{self.urls['billing']}/invoices",
                params={"work_order_id": wo},
                headers=self.office,
            )
            return r.json() if r.status_code == 200 else []

        journey.invoice = (await self._poll(f"{wo} invoiced", invoiced, timeout_s))[0]
        journey.seconds["completion_to_invoice"] = time.perf_counter() - completed_at
        journey.seconds["request_to_invoice"] = time.perf_counter() - started

        async def reported() -> list[dict[str, Any]]:
            r = await self.client.get(
                f"{self.urls['reporting']}/jobs/{wo}/timeline", headers=self.office
            )
            if r.status_code != 200:
                return []
            events: list[dict[str, Any]] = r.json()["events"]
            return events if any(e["event_type"] == "InvoiceIssued" for e in events) else []

        journey.timeline = await self._poll(f"{wo} reported", reported, timeout_s)
        return journey


async def run_demo(base_host: str, *, jobs: int, timeout_s: float) -> int:
    """Load the demo crew and run ``jobs`` requests through the whole lifecycle."""
    stack = Stack.local(base_host)
    try:
        await stack.wait_ready(timeout_s)
        await stack.register_technicians()
        for i in range(jobs):
            journey = await stack.journey(REQUESTS[i % len(REQUESTS)], timeout_s)
            total = journey.invoice["gross_total_minor"] / 100
            print(
                f"{journey.work_order_id}: {journey.technician_id}, "
                f"invoice {journey.invoice['invoice_number']} £{total:.2f}, "
                f"{len(journey.timeline)} events, "
                f"request→invoice {journey.seconds['request_to_invoice'] * 1000:.0f} ms"
            )
    finally:
        await stack.close()
    return 0
