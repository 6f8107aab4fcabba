"""The office's pages, from the first call to the device actions that could not be applied.

Log a call (with the SLA it implies and the duplicate warning before saving), the email
triage queue, approvals waiting, work orders, one work order's whole story across the
services, and device actions that could not be applied.

Every page reads and writes through the services' APIs as the signed-in person; a form
that the service refuses comes back with the service's message at the field it names.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import RedirectResponse, Response

from jobstream.web.access import OFFICE, page_for
from jobstream.web.rendering import render
from jobstream.web.sessions import SignedIn
from jobstream.web.upstream import Answer, Upstream

router = APIRouter(prefix="/office", include_in_schema=False)
Office = Annotated[SignedIn, Depends(page_for(*OFFICE))]
PRIORITIES = [
    ("P1", "P1 — emergency"),
    ("P2", "P2 — urgent"),
    ("P3", "P3 — routine"),
    ("P4", "P4 — planned"),
]
STATUSES = [
    "logged",
    "awaiting_approval",
    "approved",
    "rejected",
    "released",
    "cancelled",
    "duplicate",
    "completed",
    "incomplete",
]


def _up(request: Request) -> Upstream:
    upstream: Upstream = request.app.state.upstream
    return upstream


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _json_or(answer: Answer, default: Any) -> Any:
    return answer.json() if answer.ok else default


def _fields(answer: Answer) -> dict[str, str]:
    """A refusal's messages by form field; the rest under "_"."""
    errors = answer.field_errors()
    if not errors:
        return {"_": answer.detail()}
    return errors


# -- log a call ---------------------------------------------------------------------------


async def _call_context(
    request: Request, signed: SignedIn, values: dict[str, str]
) -> dict[str, Any]:
    """Customers found, the chosen customer's sites, contacts and assets, the job types."""
    up, who = _up(request), signed.principal
    q = values.get("q", "").strip()
    customer_id = values.get("customer_id", "")
    found = _json_or(await up.get("intake", "/customers", who, q=q, limit=20), []) if q else []
    customer = sites = contacts = assets = None
    if customer_id:
        answer = await up.get("intake", f"/customers/{customer_id}", who)
        customer = _json_or(answer, None)
        if customer:
            sites = _json_or(await up.get("intake", "/sites", who, customer_id=customer_id), [])
            contacts = _json_or(
                await up.get("intake", "/contacts", who, customer_id=customer_id), []
            )
            assets = _json_or(await up.get("intake", "/assets", who, customer_id=customer_id), [])
    job_types = _json_or(await up.get("intake", "/job-types", who), [])
    return {
        "q": q,
        "found": found,
        "customer": customer,
        "sites": sites or [],
        "contacts": contacts or [],
        "assets": assets or [],
        "job_types": job_types,
        "priorities": PRIORITIES,
    }


@router.get("/requests/new")
async def new_request(
    request: Request,
    signed: Office,
    q: str = "",
    customer_id: str = "",
    site_id: str = "",
    notice: str = "",
) -> Response:
    """Log a call: find the customer (or add one), pick the site, describe, prioritise."""
    values = {"q": q, "customer_id": customer_id, "site_id": site_id}
    context = await _call_context(request, signed, values)
    return render(
        request,
        "office/new_request.html",
        signed,
        values=values,
        errors={},
        preview=None,
        key=str(uuid.uuid4()),
        notice=notice,
        **context,
    )


def _request_body(values: dict[str, str]) -> dict[str, Any]:
    return {
        "customer_id": values.get("customer_id", ""),
        "site_id": values.get("site_id", ""),
        "asset_id": values.get("asset_id") or None,
        "contact_id": values.get("contact_id") or None,
        "description": values.get("description", "").strip(),
        "priority": values.get("priority", ""),
        "job_type": values.get("job_type") or None,
        "channel": "phone",
        "release": values.get("release") == "on",
    }


@router.post("/requests/new")
async def log_request(request: Request, signed: Office) -> Response:
    """First the preview (deadlines, possible duplicate); logged once the office confirms."""
    values = await _form(request)
    body = _request_body(values)
    up, who = _up(request), signed.principal
    errors: dict[str, str] = {}
    if not body["customer_id"]:
        errors["customer_id"] = "find and choose the customer first"
    if not body["site_id"]:
        errors["site_id"] = "choose the site"
    if not body["description"]:
        errors["description"] = "say what the caller reports"
    if body["priority"] not in {p for p, _ in PRIORITIES}:
        errors["priority"] = "choose a priority"
    preview = None
    if not errors:
        preview_body = {k: v for k, v in body.items() if k != "release"}
        answer = await up.post("intake", "/requests/preview", who, preview_body)
        if answer.ok:
            preview = answer.json()
        else:
            errors = _fields(answer)
    fingerprint = f"{body['site_id']}|{body['priority']}|{body['description']}"
    confirmed = values.get("confirmed") == fingerprint
    if errors or not confirmed:
        context = await _call_context(request, signed, values)
        return render(
            request,
            "office/new_request.html",
            signed,
            status_code=422 if errors else 200,
            values=values,
            errors=errors,
            preview=preview,
            fingerprint=fingerprint,
            key=values.get("idempotency_key") or str(uuid.uuid4()),
            notice="",
            **context,
        )
    answer = await up.post(
        "intake", "/requests", who, body, idempotency_key=values.get("idempotency_key") or None
    )
    if not answer.ok:
        context = await _call_context(request, signed, values)
        return render(
            request,
            "office/new_request.html",
            signed,
            status_code=answer.status,
            values=values,
            errors=_fields(answer),
            preview=preview,
            fingerprint=fingerprint,
            key=values.get("idempotency_key", ""),
            notice="",
            **context,
        )
    work_order = answer.json()
    return RedirectResponse(
        f"/office/work-orders/{work_order['work_order_id']}?notice=logged", status_code=303
    )


@router.post("/customers")
async def add_customer(request: Request, signed: Office) -> Response:
    """A new customer from the call page; back to it with the customer chosen."""
    values = await _form(request)
    body = {
        "name": values.get("name", "").strip(),
        "billing_address": values.get("billing_address", "").strip(),
        "billing_email": values.get("billing_email") or None,
        "phone": values.get("phone") or None,
    }
    answer = await _up(request).post(
        "intake",
        "/customers",
        signed.principal,
        body,
        idempotency_key=values.get("idempotency_key") or None,
    )
    if not answer.ok:
        context = await _call_context(request, signed, {"q": values.get("q", "")})
        return render(
            request,
            "office/new_request.html",
            signed,
            status_code=answer.status,
            values={"q": values.get("q", "")},
            errors={},
            customer_errors=_fields(answer),
            customer_values=values,
            preview=None,
            key=str(uuid.uuid4()),
            notice="",
            **context,
        )
    created = answer.json()
    return RedirectResponse(
        f"/office/requests/new?customer_id={created['customer_id']}&notice=customer-added", 303
    )


@router.post("/sites")
async def add_site(request: Request, signed: Office) -> Response:
    """A new site of the chosen customer; back to the call page with it chosen."""
    values = await _form(request)
    customer_id = values.get("customer_id", "")
    errors: dict[str, str] = {}
    location: dict[str, float] = {}
    for axis, low, high in (("lat", -90, 90), ("lon", -180, 180)):
        try:
            location[axis] = float(values.get(axis, ""))
            if not low <= location[axis] <= high:
                errors[f"site_{axis}"] = f"between {low} and {high}"
        except ValueError:
            errors[f"site_{axis}"] = "a number in decimal degrees, e.g. 53.4794"
    if not errors:
        body = {
            "customer_id": customer_id,
            "name": values.get("name", "").strip(),
            "address": values.get("address", "").strip(),
            "location": location,
            "access_instructions": values.get("access_instructions", "").strip(),
        }
        answer = await _up(request).post(
            "intake",
            "/sites",
            signed.principal,
            body,
            idempotency_key=values.get("idempotency_key") or None,
        )
        if answer.ok:
            site = answer.json()
            return RedirectResponse(
                f"/office/requests/new?customer_id={customer_id}&site_id={site['site_id']}"
                "&notice=site-added",
                303,
            )
        errors = {f"site_{k}": v for k, v in _fields(answer).items()}
    context = await _call_context(request, signed, {"customer_id": customer_id})
    return render(
        request,
        "office/new_request.html",
        signed,
        status_code=422,
        values={"customer_id": customer_id},
        errors={},
        site_errors=errors,
        site_values=values,
        preview=None,
        key=str(uuid.uuid4()),
        notice="",
        **context,
    )


# -- work orders ----------------------------------------------------------------------------


@router.get("/work-orders")
async def work_orders(request: Request, signed: Office) -> Response:
    """Work orders, newest first, by status, priority, customer and SLA risk."""
    params = request.query_params
    statuses = [s for s in params.getlist("status") if s in STATUSES]
    priorities = [p for p in params.getlist("priority") if p in {p for p, _ in PRIORITIES}]
    query: list[tuple[str, Any]] = [("status", s) for s in statuses]
    query += [("priority", p) for p in priorities]
    if params.get("customer_id"):
        query.append(("customer_id", params["customer_id"]))
    if params.get("sla_at_risk") == "on":
        query.append(("sla_at_risk", "true"))
    query.append(("limit", "200"))
    answer = await _up(request).call(
        "intake", "GET", "/work-orders", signed.principal, params=query
    )
    rows = answer.json() if answer.ok else []
    return render(
        request,
        "office/work_orders.html",
        signed,
        rows=rows,
        error=None if answer.ok else answer.detail(),
        statuses=STATUSES,
        priorities=PRIORITIES,
        chosen_statuses=statuses,
        chosen_priorities=priorities,
        customer_id=params.get("customer_id", ""),
        at_risk=params.get("sla_at_risk") == "on",
    )


@router.get("/work-orders/{work_order_id}")
async def work_order(
    request: Request, signed: Office, work_order_id: str, notice: str = "", error: str = ""
) -> Response:
    """One work order, across the services.

    Its details, where dispatch has it, the field record, the whole cross-service timeline
    from reporting, and its invoices and credit notes.
    """
    up, who = _up(request), signed.principal
    answer = await up.get("intake", f"/work-orders/{work_order_id}", who)
    if answer.status == status.HTTP_404_NOT_FOUND:
        return render(
            request,
            "error.html",
            signed,
            status_code=404,
            title="No such work order",
            message=f"There is no work order {work_order_id}.",
            home="/office/work-orders",
        )
    if not answer.ok:
        return render(
            request,
            "error.html",
            signed,
            status_code=answer.status,
            title="The work order cannot be shown",
            message=answer.detail(),
            home="/office/work-orders",
        )
    view = answer.json()
    wo = view.get("work_order", view)
    dispatch = _json_or(await up.get("dispatch", f"/jobs/{work_order_id}", who), None)
    timeline = _json_or(await up.get("reporting", f"/jobs/{work_order_id}/timeline", who), None)
    invoices = _json_or(await up.get("billing", "/invoices", who, work_order_id=work_order_id), [])
    credit_notes = _json_or(
        await up.get("billing", "/credit-notes", who, work_order_id=work_order_id), []
    )
    return render(
        request,
        "office/work_order.html",
        signed,
        view=view,
        wo=wo,
        dispatch=dispatch,
        timeline=timeline,
        invoices=invoices,
        credit_notes=credit_notes,
        notice=notice,
        etag=answer.headers.get("etag", ""),
        priorities=PRIORITIES,
        errors={},
        error=error,
        key=str(uuid.uuid4()),
    )


WORK_ORDER_ACTIONS = {
    # action: (path, fields the body takes)
    "release": ("release", ()),
    "cancel": ("cancel", ("reason",)),
    "priority": ("priority", ("priority", "reason")),
    "approve": ("approve", ("note",)),
    "reject": ("reject", ("reason",)),
    "request-approval": ("approval-request", ("note",)),
}


@router.post("/work-orders/{work_order_id}/{action}")
async def work_order_action(
    request: Request, signed: Office, work_order_id: str, action: str
) -> Response:
    """Release, cancel, re-prioritise, approve or reject, at the version the page showed.

    The version goes as If-Match: someone else's change meanwhile comes back as a conflict,
    not overwritten.
    """
    if action not in WORK_ORDER_ACTIONS:
        return render(
            request,
            "error.html",
            signed,
            status_code=404,
            title="No such action",
            message=f"{action} is not something a work order does.",
            home=f"/office/work-orders/{work_order_id}",
        )
    values = await _form(request)
    path, names = WORK_ORDER_ACTIONS[action]
    body = {n: values.get(n, "").strip() for n in names}
    answer = await _up(request).post(
        "intake",
        f"/work-orders/{work_order_id}/{path}",
        signed.principal,
        body,
        idempotency_key=values.get("idempotency_key") or None,
        if_match=values.get("etag") or None,
    )
    back = values.get("back") or f"/office/work-orders/{work_order_id}"
    if answer.ok:
        return RedirectResponse(f"{back}?notice={action}-done", 303)
    message = answer.detail()
    if answer.status == status.HTTP_409_CONFLICT:
        message = f"{message} — the page was out of date; it now shows the latest."
    if answer.status == status.HTTP_403_FORBIDDEN:
        message = f"Your role may not do this: {message}"
    target = back if back.startswith("/office/") else f"/office/work-orders/{work_order_id}"
    return RedirectResponse(f"{target}?error={_quote(message)}", 303)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:400])


# -- approvals and email --------------------------------------------------------------------


@router.get("/approvals")
async def approvals(
    request: Request, signed: Office, notice: str = "", error: str = ""
) -> Response:
    """Work orders waiting for an office admin's approval."""
    answer = await _up(request).get(
        "intake", "/work-orders", signed.principal, status="awaiting_approval", limit=200
    )
    return render(
        request,
        "office/approvals.html",
        signed,
        rows=_json_or(answer, []),
        notice=notice,
        error=error or (None if answer.ok else answer.detail()),
        key=str(uuid.uuid4()),
    )


@router.get("/emails")
async def emails(request: Request, signed: Office, notice: str = "", error: str = "") -> Response:
    """Emails the intake could not match to a customer: assign or dismiss each."""
    up, who = _up(request), signed.principal
    answer = await up.get("intake", "/inbound/emails", who, status="triage", limit=100)
    customers = _json_or(await up.get("intake", "/customers", who, limit=500), [])
    sites = _json_or(await up.get("intake", "/sites", who, limit=500), [])
    return render(
        request,
        "office/emails.html",
        signed,
        rows=_json_or(answer, []),
        customers=customers,
        sites=sites,
        priorities=PRIORITIES,
        notice=notice,
        error=error or (None if answer.ok else answer.detail()),
        key=str(uuid.uuid4()),
    )


@router.post("/emails/{email_id}/{action}")
async def email_action(request: Request, signed: Office, email_id: str, action: str) -> Response:
    """Assign a triaged email to a customer's site (logs its request), or dismiss it."""
    values = await _form(request)
    if action == "assign":
        site_id = values.get("site_id", "")
        customer_id = site_id.split("|", 1)[0] if "|" in site_id else values.get("customer_id", "")
        site_id = site_id.split("|", 1)[-1]
        body: dict[str, Any] = {
            "customer_id": customer_id,
            "site_id": site_id,
            "priority": values.get("priority") or None,
        }
    elif action == "dismiss":
        body = {"reason": values.get("reason", "").strip()}
    else:
        return RedirectResponse("/office/emails?error=unknown+action", 303)
    answer = await _up(request).post(
        "intake",
        f"/inbound/emails/{email_id}/{action}",
        signed.principal,
        body,
        idempotency_key=values.get("idempotency_key") or None,
    )
    if answer.ok:
        return RedirectResponse(f"/office/emails?notice={action}ed", 303)
    return RedirectResponse(f"/office/emails?error={_quote(answer.detail())}", 303)


# -- device actions -------------------------------------------------------------------------


@router.get("/device-actions")
async def device_actions(
    request: Request, signed: Office, notice: str = "", error: str = ""
) -> Response:
    """Actions synced from devices that could not be applied, kept whole for the office."""
    answer = await _up(request).get(
        "fieldupdates", "/office/rejected-actions", signed.principal, limit=200
    )
    return render(
        request,
        "office/device_actions.html",
        signed,
        rows=_json_or(answer, []),
        notice=notice,
        error=error or (None if answer.ok else answer.detail()),
        key=str(uuid.uuid4()),
    )


@router.post("/device-actions/{work_order_id}/{action_id}/{verb}")
async def resolve_device_action(
    request: Request, signed: Office, work_order_id: str, action_id: str, verb: str
) -> Response:
    """Apply a kept action to the job as it stands, or discard it with a reason.

    Either is a new command, with its events, in fieldupdates: never a silent drop.
    """
    if verb not in ("apply", "discard"):
        return RedirectResponse("/office/device-actions?error=unknown+action", 303)
    values = await _form(request)
    body = (
        {"note": values.get("note", "")}
        if verb == "apply"
        else {"reason": values.get("reason", "").strip()}
    )
    answer = await _up(request).post(
        "fieldupdates",
        f"/office/jobs/{work_order_id}/rejected-actions/{action_id}/{verb}",
        signed.principal,
        body,
    )
    if answer.ok:
        done = "applied" if verb == "apply" else "discarded"
        return RedirectResponse(f"/office/device-actions?notice={done}", 303)
    message = answer.detail()
    if answer.status == status.HTTP_422_UNPROCESSABLE_CONTENT and verb == "discard":
        message = "Say why the action is discarded."
    return RedirectResponse(f"/office/device-actions?error={_quote(message)}", 303)
