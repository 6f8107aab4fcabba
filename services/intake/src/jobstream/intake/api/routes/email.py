"""Inbound email: a raw RFC 822 message in, a request or a triage entry out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.api.commands import IdempotencyKey
from jobstream.errors import InvalidInputError
from jobstream.intake import email_intake, handlers
from jobstream.intake.api.common import (
    Limit,
    ObjectStoreDep,
    Office,
    OfficeReader,
    Offset,
    RuntimeDep,
    SettingsDep,
    event_store,
    get_visible,
    mutate,
    responses,
)
from jobstream.intake.api.schemas import AssignEmailBody, DismissEmailBody, InboundEmailView
from jobstream.intake.db import queries
from jobstream.intake.db.tables import inbound_emails
from jobstream.intake.domain.commands import AssignEmail, DismissEmail
from jobstream.intake.domain.email_message import EmailError

router = APIRouter(tags=["inbound email"])

MAX_MESSAGE_BYTES = 25 * 1024 * 1024
_EXAMPLE_MESSAGE = (
    "From: Priya Shah <priya@deansgatedental.example>\r\n"
    "To: service@jobstream.example\r\n"
    "Subject: Boiler fault again\r\n"
    "Message-ID: <CAF=abc123@mail.example>\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "The boiler shows F28 again this morning. Photo attached.\r\n"
    "--b1\r\nContent-Type: image/jpeg\r\n"
    'Content-Disposition: attachment; filename="boiler.jpg"\r\n'
    "Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRgABAQ==\r\n--b1--\r\n"
)


@router.post(
    "/inbound/email",
    response_model=InboundEmailView,
    status_code=201,
    summary="Receive an email (raw RFC 822 / MIME message)",
    responses={
        **responses(401, 403, 422),
        200: {"description": "This Message-ID was received before: its first outcome"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "message/rfc822": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": _EXAMPLE_MESSAGE,
                }
            },
        }
    },
)
async def receive_email(
    request: Request,
    response: Response,
    principal: Office,
    runtime: RuntimeDep,
    settings: SettingsDep,
    objects: ObjectStoreDep,
) -> Any:
    """For the mail gateway (with an office or admin token): the whole message as the body.

    The message and its attachments go to the object store (`intake/email/<id>/…`). A sender
    who is one customer's contact (tied to a site, or of a customer with one site) becomes a
    request at once (channel `email`); any other goes to the triage queue. Nothing is
    dropped, and a redelivered Message-ID returns its first outcome (200).
    """
    raw = await request.body()
    if len(raw) > MAX_MESSAGE_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail="message larger than 25 MiB")
    try:
        row, new = await email_intake.receive(
            runtime.engine, event_store(runtime), objects, settings, raw, now=datetime.now(UTC)
        )
    except EmailError as exc:
        raise InvalidInputError(str(exc), field="body") from exc
    response.status_code = 201 if new else 200
    return row


@router.get(
    "/inbound/emails",
    response_model=list[InboundEmailView],
    summary="List inbound emails (the triage queue with status=triage)",
    responses=responses(401, 403),
)
async def list_emails(
    principal: OfficeReader,
    runtime: RuntimeDep,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(logged|triage|assigned|dismissed)$")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Newest first."""
    async with runtime.engine.connect() as conn:
        return await queries.list_emails(conn, status=status_, limit=limit, offset=offset)


@router.get(
    "/inbound/emails/{email_id}",
    response_model=InboundEmailView,
    summary="One inbound email",
    responses=responses(401, 403, 404),
)
async def get_email(email_id: str, principal: OfficeReader, runtime: RuntimeDep) -> Any:
    """An email and what became of it."""
    return await get_visible(runtime, principal, inbound_emails, email_id)


@router.post(
    "/inbound/emails/{email_id}/assign",
    response_model=InboundEmailView,
    summary="Assign a triaged email to a customer's site (logs the request)",
    responses=responses(401, 403, 404, 409, 422),
)
async def assign_email(
    email_id: str,
    body: AssignEmailBody,
    response: Response,
    principal: Office,
    runtime: RuntimeDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """The email becomes a request (channel `email`, its attachments carried along)."""
    store = event_store(runtime)

    async def work(conn: AsyncConnection) -> Any:
        cmd = AssignEmail(
            email_id,
            body.customer_id,
            body.site_id,
            by=principal.subject,
            at=datetime.now(UTC),
            asset_id=body.asset_id,
            priority=body.priority,
            job_type=body.job_type,
        )
        return await email_intake.assign(cmd, handlers.Context(conn, store, settings))

    return await mutate(
        runtime,
        principal,
        scope=f"assign_email:{email_id}",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        response=response,
        status_code=200,
        work=work,
    )


@router.post(
    "/inbound/emails/{email_id}/dismiss",
    response_model=InboundEmailView,
    summary="Dismiss a triaged email that is no request",
    responses=responses(401, 403, 404, 409, 422),
)
async def dismiss_email(
    email_id: str,
    body: DismissEmailBody,
    response: Response,
    principal: Office,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """It stays on record with the reason."""

    async def work(conn: AsyncConnection) -> Any:
        cmd = DismissEmail(email_id, body.reason, by=principal.subject, at=datetime.now(UTC))
        return await email_intake.dismiss(cmd, conn)

    return await mutate(
        runtime,
        principal,
        scope=f"dismiss_email:{email_id}",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        response=response,
        status_code=200,
        work=work,
    )
