"""Drive the simulated day through the public HTTP APIs and record the ground truth.

The day runs in waves: the office takes each wave's requests (every channel), approves and
releases them, waits until dispatch has decided each one, then the technicians' devices work
the jobs they were given. Device times are chosen here, on one clock per technician, so every
arrival and completion instant is known exactly; online devices post each action at once,
offline ones keep them and sync later in shuffled, repeated batches.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from http import HTTPStatus
from typing import Any

from jobstream.simulation.api import Api, ApiError
from jobstream.simulation.ledger import Action, Job, Ledger
from jobstream.simulation.scenario import FieldPlan, Request, Scenario

# The smallest valid PNG (1×1 pixel): what a device photographs or captures as a signature.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4c50000000049454e44ae426082"
)
ACTION_PATHS = {
    "acknowledge": "acknowledge",
    "start_travel": "travel",
    "arrive": "arrive",
    "start_work": "start",
    "put_on_hold": "hold",
    "resume": "resume",
    "complete": "complete",
    "could_not_complete": "incomplete",
    "log_time": "time",
    "use_material": "materials",
    "add_note": "notes",
    "answer_checklist_item": "checklist",
    "capture_signature": "signature",
}
# A demanding contract: on site within minutes (so the compressed day meets and breaches
# it), resolved within the working day (which dispatch plans against, so stays generous).
CONTRACT_TARGETS = {
    "P1": {"respond_minutes": 1, "resolve_minutes": 600},
    "P2": {"respond_minutes": 2, "resolve_minutes": 1440},
    "P3": {"respond_minutes": 3, "resolve_minutes": 4320},
    "P4": {"respond_minutes": 5, "resolve_minutes": 20160},
}
BILLING_CONTRACT_TERMS = {
    "call_out_included": True,
    "included_labour_minutes": 30,
    "fixed_price_jobs": {"boiler_service": {"net_minor": 9900, "includes_parts": False}},
}


def parse_time(value: str) -> datetime:
    """An ISO instant from an API answer, as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _ms(moment: datetime) -> datetime:
    """Truncated to whole milliseconds, so every service stores exactly what was sent."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


async def poll(what: str, probe: Callable[[], Awaitable[Any]], timeout_s: float) -> Any:
    """Call ``probe`` until it answers something truthy, or raise at the deadline."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 1.0)


async def wait_until_past(moment: datetime, timeout_s: float) -> None:
    """Until the wall clock has passed ``moment``: the wait it needs, plus ``timeout_s`` of slack.

    Devices' clocks run ahead of the wall clock by the compressed work they did, which grows
    with the size of the day (minutes for a full-size one).
    """
    lead = max(0.0, (moment - datetime.now(UTC)).total_seconds())

    async def past() -> bool:
        return datetime.now(UTC) > moment

    await poll(f"the clock to pass {moment.isoformat()}", past, lead + timeout_s)


class Driver:
    """One simulated day against one stack."""

    def __init__(
        self,
        api: Api,
        scenario: Scenario,
        *,
        timeout_s: float = 120.0,
        between_waves: Callable[[int], Awaitable[None]] | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        """A driver of ``scenario``'s day; ``between_waves`` runs after each wave."""
        self.api = api
        self.sc = scenario
        self.timeout_s = timeout_s
        self.between_waves = between_waves
        self.log = log
        self.ledger = Ledger(started_at=datetime.now(UTC))
        self.rng = random.Random(scenario.seed * 31 + 7)
        # Each technician's device clock: the instant their next action happens.
        self.clock: dict[str, datetime] = {}
        self.seq: dict[str, int] = {}
        self.offline_queue: dict[str, list[Action]] = {}

    # -------------------------------------------------------------------------------------
    # setup

    async def setup(self) -> None:
        """The crew, the customers and their records, contracts, and the pricing in force."""
        api = self.api
        for tech in self.sc.technicians:
            await api.call(
                "dispatch",
                "POST",
                "/technicians",
                json=tech.body,
                headers=api.office,
                ok=(201, 409),
            )
        for customer in self.sc.customers:
            await api.call(
                "intake",
                "POST",
                "/customers",
                json=customer.body,
                headers=api.office,
                ok=(201, 409),
            )
            for site in customer.sites:
                await api.call(
                    "intake",
                    "POST",
                    "/sites",
                    json=site.body,
                    headers=api.office,
                    ok=(201, 409),
                )
                if site.asset_id:
                    asset = {
                        "asset_id": site.asset_id,
                        "site_id": site.site_id,
                        "asset_type": "gas_boiler",
                        "make": "Worcester Bosch",
                        "model": "Greenstar 4000",
                    }
                    await api.call(
                        "intake",
                        "POST",
                        "/assets",
                        json=asset,
                        headers=api.office,
                        ok=(201, 409),
                    )
                contact = {
                    "contact_id": f"ct-{site.site_id}",
                    "customer_id": customer.customer_id,
                    "site_id": site.site_id,
                    "name": f"Facilities desk {site.site_id}",
                    "email": site.contact_email,
                }
                await api.call(
                    "intake",
                    "POST",
                    "/contacts",
                    json=contact,
                    headers=api.office,
                    ok=(201, 409),
                )
            if customer.contract_id:
                await self._contract(customer.customer_id, customer.contract_id)
        self.ledger.pricing = await api.get("billing", "/pricing", headers=api.admin)

    async def _contract(self, customer_id: str, contract_id: str) -> None:
        api = self.api
        body = {
            "contract_id": contract_id,
            "customer_id": customer_id,
            "name": "Sim maintenance contract",
            "coverage": "24x7",
            "targets": CONTRACT_TARGETS,
            "valid_from": (self.sc.today - timedelta(days=30)).isoformat(),
        }
        await api.call("intake", "POST", "/contracts", json=body, headers=api.office, ok=(201, 409))
        pricing = await api.get("billing", "/pricing", headers=api.admin)
        if not any(c["contract_id"] == contract_id for c in pricing.get("contracts", [])):
            terms = {
                "effective_from": "2000-01-01T00:00:00Z",
                "terms": {"customer_id": customer_id, **BILLING_CONTRACT_TERMS},
            }
            await api.call(
                "billing",
                "POST",
                f"/pricing/contracts/{contract_id}",
                json=terms,
                headers=api.admin,
                ok=(200, 201),
            )

    # -------------------------------------------------------------------------------------
    # the office

    def _record(
        self, request: Request | None, view: dict[str, Any], follow_up_of: str | None = None
    ) -> Job:
        return self.ledger.add(
            Job(
                work_order_id=view["work_order_id"],
                request=request,
                customer_id=view["customer_id"],
                site_id=view["site_id"],
                asset_id=view.get("asset_id"),
                channel=view["channel"],
                priority=view["priority"],
                job_type=view.get("job_type") or (request.job_type if request else ""),
                logged_at=parse_time(view["logged_at"]),
                respond_by=parse_time(view["respond_by"]),
                resolve_by=parse_time(view["resolve_by"]),
                contract_id=view.get("contract_id"),
                follow_up_of=follow_up_of or view.get("follow_up_of"),
            )
        )

    async def _log(self, request: Request) -> Job:
        """The request arrives on its channel and is logged; answers its work order."""
        api, site = self.api, request.site
        body: dict[str, Any] = {
            "customer_id": request.customer.customer_id,
            "site_id": site.site_id,
            "description": request.description,
            "priority": request.priority,
            "job_type": request.job_type,
        }
        if site.asset_id and request.job_type.startswith("boiler"):
            body["asset_id"] = site.asset_id
        key = f"sim-{self.sc.tag}-{request.index}"
        if request.channel in ("phone", "api"):
            body["channel"] = request.channel
            if request.channel == "api":
                body |= {"external_reference": request.external_reference, "release": True}
            response = await api.call(
                "intake",
                "POST",
                "/requests",
                json=body,
                headers=api.office | {"Idempotency-Key": key},
            )
            return self._record(request, response.json())
        if request.channel == "portal":
            body["channel"] = "portal"
            headers = api.customer(request.customer.customer_id) | {"Idempotency-Key": key}
            response = await api.call("intake", "POST", "/requests", json=body, headers=headers)
            return self._record(request, response.json())
        if request.channel == "email":
            return await self._email(request)
        return await self._planned(request)

    async def _email(self, request: Request) -> Job:
        api, site = self.api, request.site
        message = EmailMessage()
        sender = (
            f"someone.new.{request.index}@elsewhere-{self.sc.tag}.example"
            if request.unmatched_sender
            else site.contact_email
        )
        message["From"] = sender
        message["To"] = "service@jobstream.example"
        message["Subject"] = request.description[:70]
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(
            idstring=f"{self.sc.tag}-{request.index}", domain="sim.example"
        )
        message.set_content(f"Hello,\n\n{request.description}\n\nThanks")
        message.add_attachment(PNG, maintype="image", subtype="png", filename="photo.png")
        response = await api.call(
            "intake",
            "POST",
            "/inbound/email",
            content=message.as_bytes(),
            headers=api.office | {"Content-Type": "message/rfc822"},
        )
        email = response.json()
        email_id = email["email_id"]
        work_order_id = email.get("work_order_id")
        if request.unmatched_sender:
            if email["status"] != "triage":
                raise AssertionError(f"email from unknown {sender} was not triaged: {email}")
            self.ledger.triaged_emails.append(email_id)
            assign = {
                "customer_id": request.customer.customer_id,
                "site_id": site.site_id,
                "priority": request.priority,
                "job_type": request.job_type,
            }
            response = await api.call(
                "intake",
                "POST",
                f"/inbound/emails/{email_id}/assign",
                json=assign,
                headers=api.office,
            )
            work_order_id = (
                response.json().get("work_order_id")
                or (await api.get("intake", f"/inbound/emails/{email_id}"))["work_order_id"]
            )
        if not work_order_id:
            raise AssertionError(f"email {email_id} made no request: {email}")
        view = await api.get("intake", f"/work-orders/{work_order_id}")
        job = self._record(request, view)
        if not view.get("job_type") or view.get("priority") != request.priority:
            # Email requests arrive without a job type; the office reads the message and
            # completes the work order before releasing it.
            patch: dict[str, Any] = {
                "job_type": request.job_type,
                "reason": "read the customer's email",
            }
            await api.call(
                "intake",
                "PATCH",
                f"/work-orders/{work_order_id}",
                json=patch,
                headers=api.office,
            )
            if view.get("priority") != request.priority:
                await api.call(
                    "intake",
                    "POST",
                    f"/work-orders/{work_order_id}/priority",
                    json={"priority": request.priority, "reason": "urgency from the email"},
                    headers=api.office,
                )
                view = await api.get("intake", f"/work-orders/{work_order_id}")
                job.priority = view["priority"]
                job.respond_by = parse_time(view["respond_by"])
                job.resolve_by = parse_time(view["resolve_by"])
            job.job_type = request.job_type
        return job

    async def _planned(self, request: Request) -> Job:
        api, site = self.api, request.site
        plan_id = f"plan-{self.sc.tag}-{request.index}"
        plan = {
            "plan_id": plan_id,
            "site_id": site.site_id,
            "job_type": request.job_type,
            "description": request.description,
            "priority": request.priority,
            "starts_on": self.sc.today.isoformat(),
            "every_months": 12,
            "lead_days": 0,
        }
        if site.asset_id:
            plan["asset_id"] = site.asset_id
        await api.call(
            "intake", "POST", "/maintenance-plans", json=plan, headers=api.office, ok=(201, 409)
        )
        await api.call(
            "intake",
            "POST",
            "/maintenance-plans/raise-due",
            json={"as_of": self.sc.today.isoformat()},
            headers=api.office,
        )
        found = await api.get("intake", f"/maintenance-plans/{plan_id}")
        work_order_id = found.get("last_work_order_id")
        if not work_order_id:
            raise AssertionError(f"plan {plan_id} due today raised nothing: {found}")
        return self._record(request, await api.get("intake", f"/work-orders/{work_order_id}"))

    async def _approve_and_release(self, job: Job) -> None:
        api, request = self.api, job.request
        assert request is not None
        path = f"/work-orders/{job.work_order_id}"
        if request.needs_value_approval:
            await api.call(
                "intake",
                "PATCH",
                path,
                json={"estimated_value_minor": 150_000, "reason": "quoted a large repair"},
                headers=api.office,
            )
        view = await api.get("intake", path)
        if view["status"] == "released":
            job.released_at = parse_time(view["released_at"])
            return
        if view["status"] not in ("approved",) and (
            request.needs_value_approval
            or request.job_type == "boiler_replacement"
            or view["status"] == "awaiting_approval"
        ):
            if view["status"] != "awaiting_approval":
                await api.call(
                    "intake",
                    "POST",
                    f"{path}/approval-request",
                    json={"note": "over the approval limit"},
                    headers=api.office,
                    ok=(200, 201, 409),
                )
            await api.call(
                "intake",
                "POST",
                f"{path}/approve",
                json={"note": "approved by the manager"},
                headers=api.admin,
                ok=(200, 201, 409),
            )
            job.approved = True
        try:
            await api.call(
                "intake", "POST", f"{path}/release", headers=api.office, ok=(200, 201, 409)
            )
        except ApiError as exc:
            raise AssertionError(f"release of {job} refused: {exc}; view {view}") from exc
        view = await api.get("intake", path)
        if view["status"] != "released":
            raise AssertionError(f"{job.work_order_id} not released: {view['status']}")
        job.released_at = parse_time(view["released_at"])

    async def office(self, requests: list[Request]) -> list[Job]:
        """Log, approve and release one wave's requests."""
        jobs = []
        for request in requests:
            job = await self._log(request)
            await self._approve_and_release(job)
            jobs.append(job)
        return jobs

    # -------------------------------------------------------------------------------------
    # dispatch

    async def await_decisions(self, jobs: list[Job]) -> None:
        """Until dispatch has scheduled or failed every released job given."""
        for job in jobs:

            async def decided(job: Job = job) -> dict[str, Any] | None:
                response = await self.api.call(
                    "dispatch",
                    "GET",
                    f"/jobs/{job.work_order_id}",
                    headers=self.api.office,
                    ok=(200, 404),
                )
                if response.status_code == HTTPStatus.NOT_FOUND:
                    return None
                view = response.json()
                if view["state"] in ("scheduled", "failed"):
                    return view
                return None

            view = await poll(f"dispatch decision on {job.work_order_id}", decided, self.timeout_s)
            self._observe(job, view)

    def _observe(self, job: Job, view: dict[str, Any]) -> None:
        if view.get("first_scheduled_at"):
            # The first JobScheduled: decided_at moves when a later decision (an urgent job
            # bumping this one) reschedules it before the simulator looks.
            job.scheduled_at = parse_time(view["first_scheduled_at"])
        if view["state"] == "failed":
            job.failed_reason = view.get("failure_reason")
            return
        start = parse_time(view["window_start"]) if view.get("window_start") else None
        assignment = (view["technician_id"], start)
        if not job.assignments or job.assignments[-1] != assignment:
            job.assignments.append(assignment)
        job.technician_id = view["technician_id"]

    async def refresh(self, jobs: list[Job]) -> None:
        """Dispatch's current view of jobs not yet worked (a failed job may be placed later)."""
        for job in jobs:
            response = await self.api.call(
                "dispatch",
                "GET",
                f"/jobs/{job.work_order_id}",
                headers=self.api.office,
                ok=(200, 404),
            )
            if response.status_code == HTTPStatus.OK and response.json()["state"] == "scheduled":
                self._observe(job, response.json())

    # -------------------------------------------------------------------------------------
    # the field

    def _tick(self, technician_id: str, minutes: float) -> datetime:
        """Advance a technician's device clock by simulated minutes; answer the new instant."""
        step = timedelta(seconds=minutes * self.sc.sizes.seconds_per_minute)
        self.clock[technician_id] = self.clock[technician_id] + step
        return self.clock[technician_id]

    def _action(
        self, job: Job, technician_id: str, action_type: str, at: datetime, **payload: Any
    ) -> Action:
        self.seq[technician_id] = self.seq.get(technician_id, 0) + 1
        action = Action(
            action_id=str(
                uuid.UUID(
                    bytes=hashlib.sha256(
                        f"{self.sc.tag}/{job.work_order_id}/{technician_id}/{self.seq[technician_id]}".encode()
                    ).digest()[:16]
                )
            ),
            technician_id=technician_id,
            work_order_id=job.work_order_id,
            type=action_type,
            device_time=_ms(at),
            device_seq=self.seq[technician_id],
            payload=payload,
        )
        job.actions.append(action)
        return action

    async def _pack(self, job: Job, technician_id: str) -> dict[str, Any]:
        """The job pack on the technician's device (waits until dispatch's job reached it)."""
        device = self.api.technician(technician_id)

        async def on_device() -> dict[str, Any] | None:
            response = await self.api.call(
                "fieldupdates",
                "GET",
                f"/jobs/{job.work_order_id}",
                headers=device,
                ok=(200, 403, 404),
            )
            return response.json() if response.status_code == HTTPStatus.OK else None

        view: dict[str, Any] = await poll(
            f"{job.work_order_id} on {technician_id}'s device", on_device, self.timeout_s
        )
        return view

    def _plan_visit(self, job: Job, technician_id: str, pack: dict[str, Any]) -> list[Action]:
        """The device's actions for one visit, on the technician's clock."""
        assert job.request is not None
        plan = job.request.plan
        # The visit starts when the technician is free and the job is known to the device.
        start = max(self.clock.get(technician_id, job.logged_at), job.logged_at)
        self.clock[technician_id] = start + timedelta(seconds=1)
        t = technician_id
        out = [self._action(job, t, "acknowledge", self._tick(t, 1))]
        eta = self.clock[t] + timedelta(
            seconds=plan.travel_minutes * self.sc.sizes.seconds_per_minute
        )
        out.append(self._action(job, t, "start_travel", self._tick(t, 1), eta=_ms(eta).isoformat()))
        out.append(self._action(job, t, "arrive", self._tick(t, plan.travel_minutes)))
        if plan.fate == "incomplete" and plan.incomplete_reason in (
            "no_access",
            "customer_cancelled",
        ):
            out.append(
                self._action(
                    job,
                    t,
                    "could_not_complete",
                    self._tick(t, 5),
                    reason=plan.incomplete_reason,
                    detail="turned away at the door",
                )
            )
            return out
        out += self._plan_work(job, t, plan)
        if plan.fate == "incomplete":
            out.append(
                self._action(
                    job,
                    t,
                    "could_not_complete",
                    self._tick(t, 3),
                    reason=plan.incomplete_reason,
                    detail="part on order",
                )
            )
            return out
        out += self._plan_finish(job, t, plan, pack)
        return out

    def _plan_work(self, job: Job, t: str, plan: FieldPlan) -> list[Action]:
        """Work on site: started, travel time logged, labour (held once if planned), parts used."""
        out: list[Action] = []
        out.append(self._action(job, t, "start_work", self._tick(t, 2)))
        out.append(
            self._action(
                job,
                t,
                "log_time",
                self._tick(t, 0.5),
                kind="travel",
                minutes=plan.travel_minutes,
                entry_id=f"tr-{job.work_order_id}-{t}",
            )
        )
        for n, minutes in enumerate(plan.work_minutes):
            if plan.hold and n == 0:
                out.append(
                    self._action(
                        job,
                        t,
                        "put_on_hold",
                        self._tick(t, minutes / 2),
                        reason="parts_required",
                        detail="fetching from the van",
                    )
                )
                out.append(self._action(job, t, "resume", self._tick(t, 10)))
            out.append(
                self._action(
                    job,
                    t,
                    "log_time",
                    self._tick(t, minutes),
                    kind="labour",
                    minutes=minutes,
                    entry_id=f"lab-{job.work_order_id}-{t}-{n}",
                )
            )
        for n, material in enumerate(plan.materials):
            out.append(
                self._action(
                    job,
                    t,
                    "use_material",
                    self._tick(t, 1),
                    entry_id=f"mat-{job.work_order_id}-{n}",
                    **material,
                )
            )
        return out

    def _plan_finish(self, job: Job, t: str, plan: FieldPlan, pack: dict[str, Any]) -> list[Action]:
        """A completed visit's last actions: note, checklist, signature, completion."""
        out: list[Action] = []
        if plan.note:
            out.append(
                self._action(
                    job,
                    t,
                    "add_note",
                    self._tick(t, 1),
                    note_id=f"note-{job.work_order_id}",
                    text="Stopcock is stiff; take a wrench",
                    carry_forward=True,
                )
            )
        checklist = ((pack.get("job_pack") or {}).get("details") or {}).get("checklist") or {}
        for item in checklist.get("items", []):
            if not item.get("required", True):
                continue
            answer = self._checklist_answer(job, item)
            out.append(
                self._action(
                    job,
                    t,
                    "answer_checklist_item",
                    self._tick(t, 1),
                    item_id=item["item_id"],
                    answer=answer,
                )
            )
        if plan.signature:
            signature = f"sig-{job.work_order_id}"[:100]
            job.photos.append(signature)
            out.append(
                self._action(
                    job,
                    t,
                    "capture_signature",
                    self._tick(t, 1),
                    attachment_id=signature,
                    signer_name="Site manager",
                )
            )
        completion: dict[str, Any] = {
            "work_done": f"{job.job_type.replace('_', ' ')} done and tested",
            "first_time_fix": plan.first_time_fix,
        }
        if plan.follow_up:
            completion |= {
                "follow_up_needed": True,
                "follow_up_reason": "second visit to replace a worn part",
            }
        if plan.next_service_in_days:
            completion["next_service_due"] = (
                self.sc.today + timedelta(days=plan.next_service_in_days)
            ).isoformat()
        out.append(self._action(job, t, "complete", self._tick(t, 3), **completion))
        return out

    def _checklist_answer(self, job: Job, item: dict[str, Any]) -> dict[str, Any]:
        """An answer to a checklist item; for a photo item, the photo joins ``job.photos``."""
        kind = item["answer_type"]
        answer: dict[str, Any] = {"answer_type": kind}
        if kind == "yes_no":
            answer["yes_no"] = True
        elif kind == "number":
            answer |= {"number": round(self.rng.uniform(1, 30), 1), "unit": item.get("unit")}
        elif kind == "text":
            answer["text"] = "Checked and in order"
        else:
            photo = f"ph-{job.work_order_id}-{item['item_id']}"[:100]
            job.photos.append(photo)
            answer["attachment_id"] = photo
        return answer

    async def _upload(self, job: Job, technician_id: str, at: datetime) -> None:
        device = self.api.technician(technician_id)
        for attachment_id in job.photos:
            kind = "signature" if attachment_id.startswith("sig-") else "photo"
            response = await self.api.call(
                "fieldupdates",
                "PUT",
                f"/jobs/{job.work_order_id}/attachments/{attachment_id}?kind={kind}",
                content=PNG,
                headers=device | {"Content-Type": "image/png", "X-Device-Time": at.isoformat()},
                ok=(200, 201, 409),  # 409: the job moved to someone else before the upload
            )
            if response.status_code in (200, 201):
                job.uploaded.add(attachment_id)

    def _answer(
        self, action: Action, status: str, reason: str | None, original: str | None = None
    ) -> None:
        action.answers.append(status)
        if action.status == "pending":
            action.status = original or status
            action.reason = reason
            if action.status == "rejected":
                self.ledger.unexpected_rejections.append(
                    f"{action.work_order_id} {action.type} by {action.technician_id}: {reason}"
                )

    async def _post_online(self, job: Job, actions: list[Action]) -> None:
        technician_id = actions[0].technician_id
        await self._upload(job, technician_id, actions[0].device_time)
        device = self.api.technician(technician_id)
        for action in actions:
            body = {
                **action.payload,
                "action_id": action.action_id,
                "device_time": action.device_time.isoformat(),
                "device_seq": action.device_seq,
            }
            try:
                response = await self.api.call(
                    "fieldupdates",
                    "POST",
                    f"/jobs/{job.work_order_id}/{ACTION_PATHS[action.type]}",
                    json=body,
                    headers=device,
                )
            except ApiError as exc:
                if exc.response.status_code not in (403, 409):
                    raise
                self._answer(action, "rejected", exc.response.text[:300])
                continue
            outcome = response.json()["outcome"]
            self._answer(
                action, outcome["status"], outcome.get("reason"), outcome.get("original_status")
            )

    async def _sync(self, technician_id: str, actions: list[Action]) -> None:
        """An offline device comes back and posts its queue in chunks.

        Each chunk is shuffled and sent twice, and one chunk once more at the end (a lost
        answer).
        """
        if not actions:
            return
        device = self.api.technician(technician_id)
        by_id = {a.action_id: a for a in actions}
        for job_id in dict.fromkeys(a.work_order_id for a in actions):
            job = self.ledger.jobs[job_id]
            first = min(a.device_time for a in actions if a.work_order_id == job_id)
            await self._upload(job, technician_id, first)
        size = max(3, len(actions) // 3)
        chunks = [actions[i : i + size] for i in range(0, len(actions), size)]
        sends = [c for chunk in chunks for c in (chunk, chunk)] + [self.rng.choice(chunks)]
        for chunk in sends:
            shuffled = list(chunk)
            self.rng.shuffle(shuffled)
            body = {
                "actions": [
                    {
                        "action_id": a.action_id,
                        "work_order_id": a.work_order_id,
                        "type": a.type,
                        "device_time": a.device_time.isoformat(),
                        "device_seq": a.device_seq,
                        "payload": a.payload,
                    }
                    for a in shuffled
                ]
            }
            response = await self.api.call(
                "fieldupdates", "POST", "/sync", json=body, headers=device
            )
            self.ledger.sync_batches += 1
            answer = response.json()
            self.ledger.sync_duplicates += answer["duplicate"]
            for result in answer["results"]:
                self._answer(
                    by_id[result["action_id"]],
                    result["status"],
                    result.get("reason"),
                    result.get("original_status"),
                )

    async def _still_assigned(self, job: Job, technician_id: str) -> bool:
        """An online device sees its job list as it is now, before it sets off.

        Dispatch may have moved the job since (a repair after another job's start, an urgent
        job).
        """
        view = await self.api.get("dispatch", f"/jobs/{job.work_order_id}")
        if view["state"] == "scheduled" and view["technician_id"] == technician_id:
            return True
        if view["state"] == "scheduled":
            self._observe(job, view)
        else:
            job.technician_id = None  # the next round's refresh sees it if placed again
        return False

    async def _claim(self, job: Job, own: set[str]) -> bool:
        """Dispatch gave the job to a technician outside this run; answers whether one took it.

        The outsider is on a shared stack (the demo's crew, another run's). The simulator
        drives only its own devices, so the office reassigns the job to one of the run's
        technicians — dispatch refuses any who is unqualified or has no room (409). A job
        none can take stays where dispatch put it and is not worked.
        """
        if job.work_order_id in self.ledger.left_with_others:
            return False
        for tech in self.sc.technicians:
            response = await self.api.call(
                "dispatch",
                "POST",
                f"/jobs/{job.work_order_id}/assign",
                json={"technician_id": tech.technician_id},
                headers=self.api.office,
                ok=(200, 409),
            )
            if response.status_code == HTTPStatus.OK:
                view = await self.api.get("dispatch", f"/jobs/{job.work_order_id}")
                self._observe(job, view)
                if job.technician_id in own:
                    self.ledger.claimed_from_others.append(job.work_order_id)
                    return True
        self.ledger.left_with_others.append(job.work_order_id)
        return False

    async def field(self, jobs: list[Job]) -> None:
        """Every technician works the jobs dispatch gave them, in the plan's order."""
        todo: dict[str, list[Job]] = {}
        own = {t.technician_id for t in self.sc.technicians}
        for job in jobs:
            if job.handled or job.technician_id is None or job.request is None:
                continue
            if job.request.plan.fate == "untouched":
                continue
            if job.technician_id not in own and not await self._claim(job, own):
                continue
            todo.setdefault(job.technician_id, []).append(job)
        for technician_id, mine in sorted(todo.items()):
            mine.sort(key=lambda j: (j.assignments[-1][1] or j.logged_at, j.work_order_id))
            tech = self.sc.technician(technician_id)
            for job in mine:
                if not tech.offline and not await self._still_assigned(job, technician_id):
                    continue  # moved since the office looked: a later round works it
                pack = await self._pack(job, technician_id)
                actions = self._plan_visit(job, technician_id, pack)
                job.handled = True
                if tech.offline:
                    self.offline_queue.setdefault(technician_id, []).extend(actions)
                else:
                    await self._post_online(job, actions)
        for technician_id in sorted(self.offline_queue):
            await self._sync(technician_id, self.offline_queue.pop(technician_id))

    # -------------------------------------------------------------------------------------
    # the day

    async def run(self) -> Ledger:
        """Setup, the waves and the follow-ups intake raised. Answers the ledger."""
        await self.setup()
        released: list[Job] = []
        for wave in range(self.sc.sizes.waves):
            requests = [r for r in self.sc.requests if r.wave == wave]
            jobs = await self.office(requests)
            released += jobs
            await self.await_decisions(jobs)
            await self.refresh([j for j in released if not j.handled and j.technician_id is None])
            await self.field(released)
            self.log(
                f"wave {wave + 1}/{self.sc.sizes.waves}: {len(jobs)} requests, "
                f"{sum(j.handled for j in released)} jobs worked so far"
            )
            if self.between_waves is not None:
                await self.between_waves(wave)
        await self.collect_follow_ups()
        self.ledger.finished_at = datetime.now(UTC)
        return self.ledger

    def expected_follow_ups(self) -> list[Job]:
        """Jobs whose outcome asks intake for a follow-up request."""
        out = []
        for job in self.ledger.jobs.values():
            outcome = job.outcome
            if outcome is None:
                continue
            if (outcome.type == "complete" and outcome.payload.get("follow_up_needed")) or (
                outcome.type == "could_not_complete"
                and outcome.payload.get("follow_up_needed", True)
            ):
                out.append(job)
        return out

    async def collect_follow_ups(self) -> None:
        """Record the follow-up work orders intake raised (waiting until each cause has one)."""
        for cause in self.expected_follow_ups():

            async def raised(cause: Job = cause) -> list[dict[str, Any]]:
                views = await self.api.get(
                    "intake",
                    "/work-orders",
                    params={"customer_id": cause.customer_id, "limit": 500},
                )
                return [v for v in views if v.get("follow_up_of") == cause.work_order_id]

            views = await poll(f"follow-up of {cause.work_order_id}", raised, self.timeout_s)
            for view in views:
                if view["work_order_id"] not in self.ledger.jobs:
                    self._record(None, view, follow_up_of=cause.work_order_id)

    async def pay(self) -> None:
        """Customers pay some invoices already issued (a payment cannot predate its invoice)."""
        now = datetime.now(UTC)
        rng = self.sc.payment_picks
        for job in sorted(self.ledger.jobs.values(), key=lambda j: j.work_order_id):
            outcome = job.outcome
            if outcome is None or outcome.device_time > now - timedelta(seconds=1):
                continue
            if rng.random() >= self.sc.sizes.payment_share:
                continue
            invoices = await self._invoices_of(job)
            if len(invoices) != 1:
                continue  # not chargeable, or not issued yet: nothing to pay
            invoice = invoices[0]
            amount = invoice["gross_total_minor"]
            if amount == 0:
                continue  # covered by the contract: nothing to pay
            paid_at = _ms(datetime.now(UTC))
            await self.api.call(
                "billing",
                "POST",
                f"/invoices/{invoice['invoice_id']}/payments",
                json={"paid_at": paid_at.isoformat(), "reference": f"BACS {job.work_order_id}"},
                headers=self.api.office | {"Idempotency-Key": f"pay-{invoice['invoice_id']}"},
            )
            job.payments.append((invoice["invoice_id"], amount, paid_at))

    async def _invoices_of(self, job: Job) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.api.get(
            "billing", "/invoices", params={"work_order_id": job.work_order_id}
        )
        return found
