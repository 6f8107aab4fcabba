"""The customer's portal: requests, their progress, invoices, and rating the visit.

Log a request for one of your sites (with a photo), follow it — booked window, the
technician's ETA once they set off, completion — download invoices and credit notes, and
rate the visit when it is done.

Every page reads and writes through the services' APIs as the signed-in customer; the
services scope what a customer may see to their own account (another customer's request
or document answers 404 there, and so here). Pages work without the script; with it, an
open request refreshes its progress in place (portal.ts).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from jobstream.auth import Role
from jobstream.web.access import page_for
from jobstream.web.domain.progress import TRACK, TRACK_LABELS, progress
from jobstream.web.rendering import render
from jobstream.web.sessions import SignedIn
from jobstream.web.upstream import Answer, Upstream

router = APIRouter(prefix="/portal", include_in_schema=False)
Customer = Annotated[SignedIn, Depends(page_for(Role.CUSTOMER))]

# How urgent, in a customer's words; the office can still change the priority.
URGENCIES = [
    ("P1", "Emergency — danger, flooding, or no heating or water today"),
    ("P2", "Urgent — within a day or so"),
    ("P3", "Routine — at the next convenient time"),
]
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# A rating is a score from 1 to this.
MAX_SCORE = 5
NOTICES = {
    "logged": "Thank you: your request is logged. We will book a visit and show it here.",
    "rated": "Thank you for rating the visit.",
}


def _up(request: Request) -> Upstream:
    upstream: Upstream = request.app.state.upstream
    return upstream


def _json_or(answer: Answer, default: Any) -> Any:
    return answer.json() if answer.ok else default


def _with_progress(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row | {"progress": progress(row)} for row in rows]


@router.get("")
async def home(request: Request, signed: Customer, notice: str = "") -> Response:
    """Open requests first, then finished ones; invoices and credit notes below."""
    up, who = _up(request), signed.principal
    answer = await up.get("intake", "/work-orders", who, limit=100)
    rows = _with_progress(_json_or(answer, []))
    invoices = _json_or(await up.get("billing", "/invoices", who, limit=100), [])
    credit_notes = _json_or(await up.get("billing", "/credit-notes", who, limit=100), [])
    sites = {s["site_id"]: s for s in _json_or(await up.get("intake", "/sites", who), [])}
    return render(
        request,
        "portal/home.html",
        signed,
        open_rows=[r for r in rows if not r["progress"].finished],
        done_rows=[r for r in rows if r["progress"].finished],
        invoices=invoices,
        credit_notes=credit_notes,
        sites=sites,
        error=None if answer.ok else answer.detail(),
        notice=NOTICES.get(notice, ""),
    )


# -- log a request ----------------------------------------------------------------------


async def _request_form(
    request: Request,
    signed: SignedIn,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    up, who = _up(request), signed.principal
    sites = _json_or(await up.get("intake", "/sites", who), [])
    job_types = [
        (t["code"], t["description"])
        for t in _json_or(await up.get("intake", "/job-types", who), [])
    ]
    return render(
        request,
        "portal/new_request.html",
        signed,
        status_code=status_code,
        values=values,
        errors=errors,
        sites=sites,
        job_types=job_types,
        urgencies=URGENCIES,
        key=values.get("idempotency_key") or str(uuid.uuid4()),
    )


@router.get("/requests/new")
async def new_request(request: Request, signed: Customer, site_id: str = "") -> Response:
    """Which site, what is wrong, how urgent, and a photo if it helps."""
    return await _request_form(request, signed, values={"site_id": site_id}, errors={})


async def _upload_photo(
    request: Request, signed: SignedIn, photo: UploadFile
) -> tuple[dict[str, Any] | None, str | None]:
    """The photo stored by intake (its reference), or why not."""
    content_type = (photo.content_type or "").split(";")[0].strip().lower()
    if content_type not in PHOTO_TYPES:
        return None, "a photo must be a JPEG, PNG or WebP image"
    data = await photo.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        return None, f"a photo may be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB"
    headers = {"content-type": content_type}
    if photo.filename:
        headers["x-filename"] = photo.filename[-200:]
    answer = await _up(request).call(
        "intake", "POST", "/request-photos", signed.principal, content=data, headers=headers
    )
    if not answer.ok:
        return None, answer.detail()
    stored: dict[str, Any] = answer.json()
    return stored, None


@router.post("/requests/new")
async def log_request(request: Request, signed: Customer) -> Response:
    """Checked here for what a person can fix at once, then by intake, which decides."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    photo = form.get("photo")
    errors: dict[str, str] = {}
    if not values.get("site_id"):
        errors["site_id"] = "choose the site"
    if not values.get("description", "").strip():
        errors["description"] = "say what is wrong"
    if values.get("priority") not in {p for p, _ in URGENCIES}:
        errors["priority"] = "choose how urgent it is"
    attachments = []
    if not errors and isinstance(photo, UploadFile) and photo.filename:
        stored, problem = await _upload_photo(request, signed, photo)
        if problem:
            errors["photo"] = problem
        elif stored:
            attachments.append(stored)
    if errors:
        return await _request_form(request, signed, values=values, errors=errors, status_code=422)
    body = {
        "customer_id": signed.account.customer_id,
        "site_id": values["site_id"],
        "description": values["description"].strip(),
        "priority": values["priority"],
        "job_type": values.get("job_type") or None,
        "attachments": attachments,
    }
    answer = await _up(request).post(
        "intake",
        "/requests",
        signed.principal,
        body,
        idempotency_key=values.get("idempotency_key") or None,
    )
    if not answer.ok:
        errors = answer.field_errors() or {"_": answer.detail()}
        return await _request_form(
            request, signed, values=values, errors=errors, status_code=answer.status
        )
    created = answer.json()
    return RedirectResponse(
        f"/portal/requests/{created['work_order_id']}?notice=logged", status_code=303
    )


# -- one request ------------------------------------------------------------------------


async def _request_page(
    request: Request,
    signed: SignedIn,
    work_order_id: str,
    *,
    notice: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    up, who = _up(request), signed.principal
    answer = await up.get("intake", f"/work-orders/{work_order_id}", who)
    if not answer.ok:
        return render(
            request,
            "error.html",
            signed,
            status_code=404 if answer.status in (403, 404) else answer.status,
            title="No such request",
            message="There is no request of yours with that reference.",
        )
    work_order = answer.json()
    site = _json_or(await up.get("intake", f"/sites/{work_order['site_id']}", who), None)
    invoices = _json_or(await up.get("billing", "/invoices", who, work_order_id=work_order_id), [])
    credit_notes = _json_or(
        await up.get("billing", "/credit-notes", who, work_order_id=work_order_id), []
    )
    values = values or {}
    return render(
        request,
        "portal/request.html",
        signed,
        status_code=status_code,
        w=work_order,
        site=site,
        told=progress(work_order),
        track=[(step, TRACK_LABELS[step]) for step in TRACK],
        invoices=invoices,
        credit_notes=credit_notes,
        notice=NOTICES.get(notice, ""),
        errors=errors or {},
        values=values,
        key=values.get("idempotency_key") or str(uuid.uuid4()),
    )


@router.get("/requests/{work_order_id}")
async def one_request(
    request: Request, signed: Customer, work_order_id: str, notice: str = ""
) -> Response:
    """Where the request is, its photos, its documents and, once done, the rating."""
    return await _request_page(request, signed, work_order_id, notice=notice)


@router.get("/requests/{work_order_id}/photos/{index}")
async def photo(request: Request, signed: Customer, work_order_id: str, index: int) -> Response:
    """A photo sent with the request (intake checks it is this customer's)."""
    answer = await _up(request).get(
        "intake", f"/work-orders/{work_order_id}/attachments/{index}", signed.principal
    )
    if not answer.ok:
        return Response("no such photo", status_code=404, media_type="text/plain")
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "application/octet-stream"),
        headers={"cache-control": "private, max-age=3600"},
    )


@router.post("/requests/{work_order_id}/rating")
async def rate(request: Request, signed: Customer, work_order_id: str) -> Response:
    """1–5 and a comment, once, after the job is completed (intake decides)."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    try:
        score = int(values.get("score", ""))
        if not 1 <= score <= MAX_SCORE:
            raise ValueError
    except ValueError:
        errors["score"] = "choose from 1 (poor) to 5 (excellent)"
        score = 0
    if not errors:
        answer = await _up(request).post(
            "intake",
            f"/work-orders/{work_order_id}/rating",
            signed.principal,
            {"score": score, "comment": values.get("comment", "").strip()},
            idempotency_key=values.get("idempotency_key") or None,
        )
        if answer.ok:
            return RedirectResponse(
                f"/portal/requests/{work_order_id}?notice=rated", status_code=303
            )
        if answer.status == status.HTTP_404_NOT_FOUND:
            return RedirectResponse(f"/portal/requests/{work_order_id}", status_code=303)
        errors = answer.field_errors() or {"_": answer.detail()}
    return await _request_page(
        request, signed, work_order_id, errors=errors, values=values, status_code=422
    )
