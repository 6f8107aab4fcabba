"""Demo data and the walking-skeleton journey, driven through the services' public APIs.

Used by ``jobstream demo`` (after ``make up``), by the end-to-end test and by the latency
benchmark: one job travels request → schedule → dispatch → completion → invoice → report.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import httpx

from jobstream.auth import Role, mint_token
from jobstream.settings import AuthSettings

SERVICES = ("intake", "dispatch", "fieldupdates", "billing", "reporting")
DEFAULT_PORTS = dict(zip(SERVICES, range(8001, 8006), strict=True))

# The demo crew is on call round the clock (every day 00:00–23:59), so the demo's jobs are
# schedulable whatever time it runs; a job that would cross midnight starts the next day.
# On call from home, their drive home is their own time (ADR 0085's `not_counted`): counted,
# it would push every evening job past midnight.
ON_CALL = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]

TECHNICIANS: list[dict[str, Any]] = [
    {
        "technician_id": "tech-amir",
        "name": "Amir Patel",
        "skills": [{"name": "gas_boiler", "level": 4}, {"name": "plumbing", "level": 3}],
        "certifications": [{"name": "gas_safe", "expires_on": "2028-03-31"}],
        "home_base": {"lat": 53.4631, "lon": -2.2913},
        "shifts": ON_CALL,
        "drive_home": "not_counted",
    },
    {
        "technician_id": "tech-beth",
        "name": "Beth Okafor",
        "skills": [{"name": "electrical", "level": 4}],
        "certifications": [{"name": "18th_edition", "expires_on": "2028-01-31"}],
        "home_base": {"lat": 53.4875, "lon": -2.2901},
        "shifts": ON_CALL,
        "drive_home": "not_counted",
    },
    {
        "technician_id": "tech-chen",
        "name": "Chen Wei",
        "skills": [{"name": "hvac", "level": 4}, {"name": "plumbing", "level": 2}],
        "certifications": [{"name": "f_gas", "expires_on": "2027-09-30"}],
        "home_base": {"lat": 53.4106, "lon": -2.1575},
        "shifts": ON_CALL,
        "drive_home": "not_counted",
    },
]

# Each request names its customer and site as the office finds them (created on first use).
REQUESTS: list[dict[str, Any]] = [
    {
        "customer_id": "cust-deansgate-dental",
        "customer_name": "Deansgate Dental Practice",
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
        "customer_name": "Salford Lofts Management",
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
        "customer_name": "Stockport Offices Ltd",
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


# The smallest valid PNG (1×1 pixel): what the demo device "photographs".
DEMO_PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4c50000000049454e44ae426082"
)


def _check(response: httpx.Response) -> httpx.Response:
    """``response`` if it succeeded; otherwise an error that carries the service's answer."""
    if response.is_error:
        raise httpx.HTTPStatusError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: "
            f"{response.text[:1000]}",
            request=response.request,
            response=response,
        )
    return response


@dataclass
class Journey:
    """What one job's trip through the five services produced, with timings."""

    work_order_id: str
    technician_id: str = ""
    invoice: dict[str, Any] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


async def wait_until_ready(
    client: httpx.AsyncClient, urls: dict[str, str], timeout_s: float
) -> None:
    """Until every service's /readyz answers 200, or TimeoutError naming the one that did not."""
    deadline = time.monotonic() + timeout_s
    for service, url in urls.items():
        while True:
            try:
                if (await client.get(f"{url}/readyz")).status_code == HTTPStatus.OK:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service} at {url} not ready after {timeout_s}s")
            await asyncio.sleep(0.2)


class Stack:
    """HTTP clients for the five services, with tokens minted from the shared secret."""

    def __init__(self, urls: dict[str, str], auth: AuthSettings | None = None) -> None:
        """Clients for the services at ``urls``, with the office's headers ready."""
        self.urls = urls
        self.auth = auth or AuthSettings()
        self.client = httpx.AsyncClient(timeout=10.0)
        self.office = self._headers(Role.DISPATCHER, "demo-dispatcher")

    @classmethod
    def local(cls, base_host: str = "http://127.0.0.1") -> Stack:
        """The five services on their default local ports."""
        return cls({s: f"{base_host}:{p}" for s, p in DEFAULT_PORTS.items()})

    def _headers(
        self, role: Role, subject: str, *, technician_id: str | None = None
    ) -> dict[str, str]:
        token = mint_token(self.auth, subject=subject, role=role, technician_id=technician_id)
        return {"Authorization": f"Bearer {token}"}

    def technician(self, technician_id: str) -> dict[str, str]:
        """Headers of a technician's device."""
        return self._headers(Role.TECHNICIAN, technician_id, technician_id=technician_id)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Until every service's /readyz answers 200."""
        await wait_until_ready(self.client, self.urls, timeout_s)

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

    async def ensure_customer(self, request: dict[str, Any]) -> None:
        """The office finds the caller's customer and site, adding them the first time."""
        intake = self.urls["intake"]
        site = request["site"]
        for path, body in (
            (
                "/customers",
                {
                    "customer_id": request["customer_id"],
                    "name": request.get("customer_name", request["customer_id"]),
                    "billing_address": site["address"],
                },
            ),
            (
                "/sites",
                {
                    "customer_id": request["customer_id"],
                    "name": site.get("name", "Main site"),
                    **{k: v for k, v in site.items() if k != "name"},
                },
            ),
        ):
            response = await self.client.post(f"{intake}{path}", json=body, headers=self.office)
            if response.status_code not in (201, 409):  # 409: already on file
                response.raise_for_status()

    async def log_and_release(self, request: dict[str, Any]) -> str:
        """The office's phone entry: log the request, then release its work order."""
        await self.ensure_customer(request)
        intake = self.urls["intake"]
        body = {
            "customer_id": request["customer_id"],
            "site_id": request["site"]["site_id"],
            "description": request["description"],
            "priority": request["priority"],
            "job_type": request["job_type"],
        }
        headers = self.office | {"Idempotency-Key": str(uuid.uuid4())}
        response = await self.client.post(f"{intake}/requests", json=body, headers=headers)
        response.raise_for_status()
        work_order_id: str = response.json()["work_order_id"]
        response = await self.client.post(
            f"{intake}/work-orders/{work_order_id}/release", headers=self.office
        )
        response.raise_for_status()
        return work_order_id

    async def fill_job_sheet(self, field: str, device: dict[str, str]) -> None:
        """Answer every required item of the job pack's checklist, as the technician would.

        A photo item gets a photo uploaded first, then referenced by its id.
        """
        view = _check(await self.client.get(field, headers=device)).json()
        checklist = (view["job_pack"] or {}).get("details", {}).get("checklist") or {}
        for item in checklist.get("items", []):
            if not item.get("required", True):
                continue
            kind = item["answer_type"]
            answer: dict[str, Any] = {"answer_type": kind}
            if kind == "yes_no":
                answer["yes_no"] = True
            elif kind == "number":
                answer |= {"number": 1.0, "unit": item.get("unit")}
            elif kind == "text":
                answer["text"] = "Checked and in order"
            else:
                photo_id = f"{item['item_id']}-{uuid.uuid4().hex[:8]}"
                _check(
                    await self.client.put(
                        f"{field}/attachments/{photo_id}?kind=photo",
                        content=DEMO_PHOTO,
                        headers={**device, "Content-Type": "image/png"},
                    )
                )
                answer["attachment_id"] = photo_id
            body = {"item_id": item["item_id"], "answer": answer}
            _check(await self.client.post(f"{field}/checklist", json=body, headers=device))

    async def journey(self, request: dict[str, Any], timeout_s: float = 60.0) -> Journey:
        """Log a request, let it be dispatched, complete it on the device, see the invoice."""
        started = time.perf_counter()
        journey = Journey(work_order_id=await self.log_and_release(request))
        wo = journey.work_order_id

        async def dispatched() -> dict[str, Any] | None:
            r = await self.client.get(f"{self.urls['dispatch']}/jobs/{wo}", headers=self.office)
            return (
                r.json() if r.status_code == HTTPStatus.OK and r.json()["technician_id"] else None
            )

        job = await self._poll(f"{wo} dispatched", dispatched, timeout_s)
        journey.technician_id = job["technician_id"]
        device = self.technician(journey.technician_id)

        async def on_device() -> bool:
            r = await self.client.get(f"{self.urls['fieldupdates']}/jobs/{wo}", headers=device)
            return r.status_code == HTTPStatus.OK

        await self._poll(f"{wo} on the technician's device", on_device, timeout_s)
        journey.seconds["request_to_device"] = time.perf_counter() - started
        # The technician's day on the device: acknowledge, travel, arrive, work, log the
        # labour, complete. Billing prices the 75 minutes of labour from TimeLogged.
        field = f"{self.urls['fieldupdates']}/jobs/{wo}"
        eta = (datetime.now(UTC) + timedelta(minutes=20)).isoformat()
        for step, body in (
            ("acknowledge", {}),
            ("travel", {"eta": eta}),
            ("arrive", {}),
            ("start", {}),
            ("time", {"kind": "labour", "minutes": 75}),
        ):
            _check(await self.client.post(f"{field}/{step}", json=body, headers=device))
        await self.fill_job_sheet(field, device)
        completed_at = time.perf_counter()
        r = await self.client.post(
            f"{field}/complete",
            json={
                "work_done": "Diagnosed and repaired; tested in front of the customer",
                "first_time_fix": True,
            },
            headers=device,
        )
        _check(r)

        async def invoiced() -> list[dict[str, Any]]:
            r = await self.client.get(
                f"{self.urls['billing']}/invoices",
                params={"work_order_id": wo},
                headers=self.office,
            )
            return r.json() if r.status_code == HTTPStatus.OK else []

        journey.invoice = (await self._poll(f"{wo} invoiced", invoiced, timeout_s))[0]
        journey.seconds["completion_to_invoice"] = time.perf_counter() - completed_at
        journey.seconds["request_to_invoice"] = time.perf_counter() - started

        async def reported() -> list[dict[str, Any]]:
            r = await self.client.get(
                f"{self.urls['reporting']}/jobs/{wo}/timeline", headers=self.office
            )
            if r.status_code != HTTPStatus.OK:
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
