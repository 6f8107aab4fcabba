"""Wait for the pipeline to settle, then compare the stack's answers with the ground truth."""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from jobstream.simulation import expect
from jobstream.simulation.api import Api
from jobstream.simulation.driver import parse_time, poll, wait_until_past
from jobstream.simulation.ledger import Job, Ledger
from jobstream.simulation.scenario import JOB_TYPES, Scenario, Technician

# Field events each applied action produces (one each); uploads add AttachmentAdded.
EVENT_OF = {
    "acknowledge": "JobAcknowledged",
    "start_travel": "TravelStarted",
    "revise_eta": "EtaRevised",
    "arrive": "TechnicianArrived",
    "start_work": "JobStarted",
    "put_on_hold": "JobPutOnHold",
    "resume": "JobResumed",
    "complete": "JobCompleted",
    "could_not_complete": "JobIncomplete",
    "log_time": "TimeLogged",
    "use_material": "MaterialUsed",
    "add_note": "NoteAdded",
    "answer_checklist_item": "ChecklistItemAnswered",
    "capture_signature": "SignatureCaptured",
}
COUNTED = (
    *EVENT_OF.values(),
    "AttachmentAdded",
    "InvoiceIssued",
    "InvoicePaid",
    "CreditNoteIssued",
    "RequestLogged",
    "WorkOrderReleased",
)


@dataclass
class Report:
    """Every invariant checked, what differed, and the figures of the run."""

    failures: list[str] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)
    figures: dict[str, Any] = field(default_factory=dict)

    def expect(self, invariant: str, ok: bool, detail: str) -> None:
        """Count one check of ``invariant``; remember ``detail`` when it failed."""
        self.checked[invariant] += 1
        if not ok:
            self.failures.append(f"{invariant}: {detail}")

    @property
    def ok(self) -> bool:
        """Whether every invariant held."""
        return not self.failures


def _same_instant(a: float | None, b: float | None) -> bool:
    """Epoch seconds equal to the microsecond (PostgreSQL's resolution)."""
    if a is None or b is None:
        return a is b
    return abs(a - b) < 1e-6 * 2


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    return bool(a == b)


class Checker:
    """Settles and checks one run."""

    def __init__(
        self,
        api: Api,
        scenario: Scenario,
        ledger: Ledger,
        *,
        exclusive: bool,
        timeout_s: float = 180.0,
    ) -> None:
        """A checker of the run in ``ledger``; ``exclusive``: the stack holds only this run."""
        self.api = api
        self.sc = scenario
        self.ledger = ledger
        self.exclusive = exclusive
        self.timeout_s = timeout_s
        self.details: dict[str, dict[str, Any]] = {}
        self.expected: dict[str, expect.Invoice | None] = {}
        self.invoices: dict[str, list[dict[str, Any]]] = {}
        self.others: dict[str, Technician] = {}  # technicians outside the run, as registered
        self.report = Report()

    # -------------------------------------------------------------------------------------
    # settling

    def expected_counts(self, job: Job) -> Counter[str]:
        """Events of ``COUNTED`` types reporting must hold for the job, exactly."""
        counts: Counter[str] = Counter({"RequestLogged": 1})
        if job.released_at is not None:
            counts["WorkOrderReleased"] = 1
        for action in job.applied():
            counts[EVENT_OF[action.type]] += 1
        counts["AttachmentAdded"] += len(job.uploaded)
        if self.expected.get(job.work_order_id) is not None:
            counts["InvoiceIssued"] = 1
        counts["InvoicePaid"] += len(job.payments)
        return counts

    async def load_details(self) -> None:
        """Intake's final word on every job: details as released, deadlines, plan."""
        for job in self.ledger.jobs.values():
            view = await self.api.get("intake", f"/work-orders/{job.work_order_id}")
            self.details[job.work_order_id] = view
            job.asset_id = view.get("asset_id")
            job.priority = view["priority"]
            job.respond_by = parse_time(view["respond_by"])
            job.resolve_by = parse_time(view["resolve_by"])
            if view.get("maintenance_plan_id") and job.channel != "planned":
                job.channel = "planned"  # a plan's visit is never a follow-up for FTF
            details = view.get("details") or {}
            job.contract_id = details.get("contract_id", view.get("contract_id"))

    def _details(self, job: Job) -> dict[str, Any]:
        view = self.details[job.work_order_id]
        details = dict(view.get("details") or {})
        details.setdefault("job_type", view.get("job_type") or job.job_type)
        details.setdefault("priority", view["priority"])
        details.setdefault("contract_id", view.get("contract_id"))
        if "required_skills" not in details:
            details["required_skills"] = sorted(JOB_TYPES[details["job_type"]]["skills"])
            details["required_certifications"] = sorted(JOB_TYPES[details["job_type"]]["certs"])
        return details

    def compute_invoices(self) -> None:
        """The invoice each job should get."""
        for job in self.ledger.jobs.values():
            self.expected[job.work_order_id] = expect.expected_invoice(
                job, self._details(job), self.sc, self.ledger.pricing
            )

    async def wait_for_invoices(self) -> None:
        """Until billing has issued every expected invoice."""
        for job in self.ledger.jobs.values():
            if self.expected[job.work_order_id] is None:
                continue

            async def issued(job: Job = job) -> list[dict[str, Any]]:
                found: list[dict[str, Any]] = await self.api.get(
                    "billing", "/invoices", params={"work_order_id": job.work_order_id}
                )
                return found

            await poll(f"invoice of {job.work_order_id}", issued, self.timeout_s)

    async def settle(self) -> float:
        """Until every service has caught up with everything the run did; answers seconds waited.

        Reporting is last in every chain, so its timelines holding exactly the events each job
        must have (and billing's invoices, intake's follow-ups) means it settled.
        """
        started = time.monotonic()
        pending = dict(self.ledger.jobs)
        deadline = started + self.timeout_s
        while pending:
            for work_order_id, job in list(pending.items()):
                response = await self.api.call(
                    "reporting",
                    "GET",
                    f"/jobs/{work_order_id}/timeline",
                    headers=self.api.office,
                    ok=(200, 404),
                )
                if response.status_code != HTTPStatus.OK:
                    continue
                have = Counter(e["event_type"] for e in response.json()["events"])
                want = self.expected_counts(job)
                if all(have[t] == want[t] for t in COUNTED):
                    pending.pop(work_order_id)
            if pending and time.monotonic() > deadline:
                break
            if pending:
                await _pause()
        for work_order_id, job in pending.items():
            response = await self.api.call(
                "reporting",
                "GET",
                f"/jobs/{work_order_id}/timeline",
                headers=self.api.office,
                ok=(200, 404),
            )
            have = (
                Counter(e["event_type"] for e in response.json().get("events", []))
                if response.status_code == HTTPStatus.OK
                else Counter()
            )
            want = self.expected_counts(job)
            diff = {t: (have[t], want[t]) for t in COUNTED if have[t] != want[t]}
            self.report.expect(
                "reporting holds every event exactly once",
                False,
                f"{work_order_id} (have, want): {diff}",
            )
        for tech in self.sc.technicians:
            await poll(
                f"{tech.technician_id} known to reporting",
                functools.partial(self._known, tech.technician_id),
                self.timeout_s,
            )
        return time.monotonic() - started

    async def _known(self, technician_id: str) -> bool:
        response = await self.api.call(
            "reporting",
            "GET",
            f"/technicians/{technician_id}/timeline",
            headers=self.api.office,
            ok=(200, 404),
        )
        return response.status_code == HTTPStatus.OK and bool(response.json().get("events"))

    # -------------------------------------------------------------------------------------
    # invariants

    async def one_work_order_per_request(self) -> None:
        """Intake holds exactly the work orders the run caused.

        Every request has exactly one work order; every follow-up cause exactly one follow-up;
        intake holds no work order for these customers that the run did not cause.
        """
        r = self.report
        by_request = Counter(j.request.index for j in self.ledger.jobs.values() if j.request)
        for request in self.sc.requests:
            r.expect(
                "every request has exactly one work order",
                by_request[request.index] == 1,
                f"request #{request.index} has {by_request[request.index]}",
            )
        causes = Counter(j.follow_up_of for j in self.ledger.jobs.values() if j.follow_up_of)
        for job in self.ledger.jobs.values():
            outcome = job.outcome
            wants = outcome is not None and (
                bool(outcome.payload.get("follow_up_needed"))
                or (
                    outcome.type == "could_not_complete"
                    and outcome.payload.get("follow_up_needed", True)
                )
            )
            r.expect(
                "every follow-up cause has exactly one follow-up",
                causes[job.work_order_id] == (1 if wants else 0),
                f"{job.work_order_id} has {causes[job.work_order_id]} follow-ups",
            )
        for customer in self.sc.customers:
            views = await self.api.get(
                "intake", "/work-orders", params={"customer_id": customer.customer_id, "limit": 500}
            )
            extra = sorted(
                v["work_order_id"] for v in views if v["work_order_id"] not in self.ledger.jobs
            )
            r.expect(
                "no work order the run did not cause", not extra, f"{customer.customer_id}: {extra}"
            )
            ours = [j for j in self.ledger.jobs.values() if j.customer_id == customer.customer_id]
            r.expect(
                "no work order lost",
                len(views) == len(ours),
                f"{customer.customer_id}: intake lists {len(views)}, the run made {len(ours)}",
            )

    async def qualified_assignments(self) -> None:
        """Every assignment seen (and dispatch's final one) went to a qualified technician.

        Qualified means holding the required skills and certifications valid on the visit's
        local date.
        """
        r = self.report
        own = {t.technician_id for t in self.sc.technicians}
        for job in self.ledger.jobs.values():
            details = self._details(job)
            response = await self.api.call(
                "dispatch",
                "GET",
                f"/jobs/{job.work_order_id}",
                headers=self.api.office,
                ok=(200, 404),
            )
            seen = list(job.assignments)
            if response.status_code == HTTPStatus.OK and response.json().get("technician_id"):
                view = response.json()
                start = parse_time(view["window_start"]) if view.get("window_start") else None
                seen.append((view["technician_id"], start))
            for technician_id, start in seen:
                if technician_id not in own and technician_id not in self.others:
                    self.others[technician_id] = await self._registered(technician_id)
                problem = self._unqualified(technician_id, start, details)
                r.expect(
                    "no job assigned to an unqualified technician",
                    problem is None,
                    f"{job.work_order_id} -> {technician_id}: {problem}",
                )
            for action in job.applied():
                r.expect(
                    "only the assigned technician worked the job",
                    any(t == action.technician_id for t, _ in seen),
                    f"{job.work_order_id}: {action.technician_id} acted, assigned {seen}",
                )

    async def _registered(self, technician_id: str) -> Technician:
        """A technician outside the run (a shared stack), as dispatch's registry holds them.

        Their assignments are checked against the same rules.
        """
        row = await self.api.get("dispatch", f"/technicians/{technician_id}")
        profile = row["profile"]
        return Technician(
            technician_id=technician_id,
            trade="outside this run",
            body=profile,
            offline=False,
            certifications={
                c["name"]: date.fromisoformat(c["expires_on"])
                for c in profile.get("certifications", [])
                if c.get("expires_on")
            },
            skills={s["name"]: s["level"] for s in profile["skills"]},
        )

    def _unqualified(
        self, technician_id: str, start: datetime | None, details: dict[str, Any]
    ) -> str | None:
        tech = self.others.get(technician_id) or self.sc.technician(technician_id)
        missing = set(details["required_skills"]) - set(tech.skills)
        if missing:
            return f"lacks skills {sorted(missing)}"
        day: date | None = (
            start.astimezone(ZoneInfo(tech.body["time_zone"])).date() if start else None
        )
        for cert in details.get("required_certifications") or []:
            expires = tech.certifications.get(cert)
            if expires is None:
                return f"lacks certification {cert}"
            if day is None or expires < day:
                return f"{cert} expired {expires} for a visit on {day}"
        return None

    async def invoiced_once_with_the_right_total(self) -> None:
        """Every chargeable outcome has exactly one invoice with the expected totals.

        Nothing else was invoiced or credited; payments are on the invoices they were made to.
        """
        r = self.report
        for job in self.ledger.jobs.values():
            found = await self.api.get(
                "billing", "/invoices", params={"work_order_id": job.work_order_id}
            )
            self.invoices[job.work_order_id] = found
            want = self.expected[job.work_order_id]
            if want is None:
                r.expect(
                    "nothing invoiced that is not chargeable",
                    not found,
                    f"{job.work_order_id}: {[i['invoice_number'] for i in found]}",
                )
                continue
            r.expect(
                "every chargeable job invoiced exactly once",
                len(found) == 1,
                f"{job.work_order_id}: {len(found)} invoices",
            )
            if len(found) != 1:
                continue
            got = found[0]
            totals = (got["net_total_minor"], got["tax_total_minor"], got["gross_total_minor"])
            r.expect(
                "invoice totals equal the simulator's pricing",
                totals == (want.net, want.tax, want.gross),
                f"{job.work_order_id} {got['invoice_number']}: billing {totals}, expected "
                f"{(want.net, want.tax, want.gross)} from lines "
                f"{[(x.kind, x.net, x.tax) for x in want.lines]}; billing's lines "
                f"{[(x['kind'], x['net_minor'], x['tax_minor']) for x in got['lines']]}",
            )
            paid = sum(p[1] for p in job.payments)
            if paid:
                r.expect(
                    "payments recorded on their invoice",
                    got["paid_minor"] == paid and got["status"] == "paid",
                    f"{got['invoice_number']}: status {got['status']} paid "
                    f"{got['paid_minor']}, paid {paid}",
                )
            credits = await self.api.get(
                "billing", "/credit-notes", params={"work_order_id": job.work_order_id}
            )
            r.expect("no credit note", not credits, f"{job.work_order_id}: {credits}")

    async def reporting_instants_match(self) -> None:
        """Per job, reporting's logged and first-scheduled instants equal intake's and dispatch's.

        The KPI groups below are means over many jobs; this names the job (and shows
        reporting's scheduling events in its order) when one differs.
        """
        r = self.report
        scheduling = {"JobScheduled", "JobRescheduled", "JobUnscheduled", "SchedulingFailed"}
        for job in self.ledger.jobs.values():
            view = await self.api.get("reporting", f"/jobs/{job.work_order_id}")
            facts = view.get("facts", {})
            mine = {
                "logged_at": job.logged_at.timestamp(),
                "scheduled_at": job.scheduled_at.timestamp() if job.scheduled_at else None,
            }
            diff = {
                k: (facts.get(k), v) for k, v in mine.items() if not _same_instant(facts.get(k), v)
            }
            if diff:
                timeline = await self.api.get("reporting", f"/jobs/{job.work_order_id}/timeline")
                seen = [
                    f"{e['event_type']}@{e['occurred_at']}#{e.get('sequence')}"
                    for e in timeline["events"]
                    if e["event_type"] in scheduling
                ]
                detail = f"{job.work_order_id} (reporting, expected): {diff}; in order: {seen}"
            else:
                detail = ""
            r.expect("reporting's job instants", not diff, detail)

    async def kpis_match(self) -> None:
        """Reporting's KPIs equal the simulator's.

        That is per customer, per technician, and the backlog when the stack holds only this
        run.
        """
        r = self.report
        jobs = list(self.ledger.jobs.values())
        period = expect.evaluation_period(self.ledger)
        await wait_until_past(period.at, self.timeout_s)
        params = {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "as_of": period.at.isoformat(),
        }
        got = await self.api.get(
            "reporting", "/kpis", params=params | {"group_by": "customer"}, headers=self.api.analyst
        )
        want = expect.job_kpis(jobs, self.invoices, period)
        compared = 0
        for customer_id, mine in sorted(want.items()):
            for kpi in ("first_time_fix", "sla_respond", "sla_resolve", "repeat_visits"):
                theirs = got[kpi].get(customer_id, {})
                expected = {k: v for k, v in mine[kpi].items()}
                if not any(expected.values()):
                    r.expect(
                        f"kpi {kpi}",
                        not theirs or not any(v for k, v in theirs.items() if k != "rate"),
                        f"{customer_id}: reporting {theirs}, expected none",
                    )
                    continue
                actual = {k: theirs.get(k) for k in expected}
                r.expect(
                    f"kpi {kpi}",
                    actual == expected,
                    f"{customer_id}: reporting {actual}, expected {expected}",
                )
                compared += 1
            for kpi in (
                "time_to_schedule",
                "time_to_arrive",
                "time_to_complete",
                "completion_to_invoice",
            ):
                theirs = got[kpi].get(
                    customer_id, {"count": 0, "mean_minutes": None, "p90_minutes": None}
                )
                ok = all(_close(theirs.get(k), v) for k, v in mine[kpi].items())
                r.expect(
                    f"kpi {kpi}", ok, f"{customer_id}: reporting {theirs}, expected {mine[kpi]}"
                )
                compared += 1
            theirs_parts = {
                sku: {"quantity_milli": p["quantity_milli"], "jobs": p["jobs"]}
                for sku, p in got["parts_usage"].get(customer_id, {}).items()
            }
            r.expect(
                "kpi parts_usage",
                theirs_parts == mine["parts_usage"],
                f"{customer_id}: reporting {theirs_parts}, expected {mine['parts_usage']}",
            )
            revenue = got["revenue"].get(customer_id, {}).get("GBP", {}).get("net_minor", 0)
            r.expect(
                "kpi revenue",
                revenue == mine["revenue"],
                f"{customer_id}: reporting {revenue}, expected {mine['revenue']}",
            )
            compared += 2
        registered_on = self.ledger.started_at.astimezone(ZoneInfo("Europe/London")).date()
        techs = expect.technician_kpis(self.sc, jobs, period, registered_on)
        for technician_id, mine_t in techs.items():
            theirs_t = got["technicians"].get(technician_id, {})
            diff = {
                k: (theirs_t.get(k), v) for k, v in mine_t.items() if not _close(theirs_t.get(k), v)
            }
            r.expect("kpi technicians", not diff, f"{technician_id} (reporting, expected): {diff}")
            compared += 1
        if self.exclusive:
            mine_b = expect.backlog(jobs, period)
            theirs_b = {
                "total": got["backlog"]["total"],
                "by_priority": got["backlog"]["by_priority"],
            }
            r.expect("kpi backlog", theirs_b == mine_b, f"reporting {theirs_b}, expected {mine_b}")
            compared += 1
        self.report.figures["kpi_groups_compared"] = compared

    async def prepare(self) -> None:
        """Intake's final details, the expected invoices, and billing caught up with them.

        Billing has to catch up so that customers can pay.
        """
        await self.load_details()
        self.compute_invoices()
        await self.wait_for_invoices()

    async def verify(self) -> Report:
        """Settle, then check every invariant."""
        self.report.figures["settle_seconds"] = round(await self.settle(), 2)
        await self.one_work_order_per_request()
        await self.qualified_assignments()
        await self.invoiced_once_with_the_right_total()
        await self.reporting_instants_match()
        await self.kpis_match()
        return self.report


async def _pause() -> None:
    await asyncio.sleep(0.5)
