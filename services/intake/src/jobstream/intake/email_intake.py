"""Inbound email: store the message and its attachments, then log it or queue it for triage.

Nothing is dropped: every message is kept (raw, in the object store) and recorded under its
Message-ID, so a redelivered message finds its first outcome. A sender that matches one
customer and one site becomes a request at once; anything else waits in the triage queue
for the office to assign or dismiss.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobstream.contracts.common import AttachmentRef, Channel
from jobstream.errors import NotFoundError
from jobstream.eventstore.store import EventStore
from jobstream.idempotency import lock_key
from jobstream.ids import derived_id
from jobstream.intake import handlers
from jobstream.intake.config import IntakeSettings
from jobstream.intake.db import queries
from jobstream.intake.domain.commands import AssignEmail, DismissEmail, LogRequest
from jobstream.intake.domain.email_message import InboundEmail, parse_email, route
from jobstream.intake.domain.work_order import DomainError, InvalidTransitionError
from jobstream.objectstore import ObjectStore

EMAIL_LOGGER = "inbound-email"


def email_work_order_id(email_id: str) -> str:
    """The request an email becomes: one per message, whoever logs it."""
    return f"wo-{derived_id('email-request', email_id)}"


async def _store_files(
    objects: ObjectStore, raw: bytes, parsed: InboundEmail
) -> tuple[str, list[AttachmentRef]]:
    base = f"intake/email/{parsed.email_id}"
    raw_key = f"{base}/message.eml"
    await objects.put(raw_key, raw, "message/rfc822")
    refs = []
    for attachment in parsed.attachments:
        stored = await objects.put(
            f"{base}/{attachment.safe_name}", attachment.data, attachment.content_type
        )
        refs.append(
            AttachmentRef(
                key=stored.key,
                filename=attachment.filename,
                content_type=stored.content_type,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
            )
        )
    return raw_key, refs


async def receive(
    engine: AsyncEngine,
    store: EventStore,
    objects: ObjectStore,
    settings: IntakeSettings,
    raw: bytes,
    *,
    now: datetime,
) -> tuple[dict[str, Any], bool]:
    """Take in one message; returns (its inbound_emails row, whether it was new)."""
    parsed = parse_email(raw)
    async with engine.connect() as conn:
        seen = await queries.email_by_message_id(conn, parsed.message_id)
    if seen is not None:
        return seen, False
    # Files first: puts are idempotent (same key, same bytes), so a crash before the
    # commit below leaves at most an unreferenced copy that the retry overwrites.
    raw_key, refs = await _store_files(objects, raw, parsed)
    async with engine.begin() as conn:
        await lock_key(conn, "inbound-email", parsed.message_id)
        seen = await queries.email_by_message_id(conn, parsed.message_id)
        if seen is not None:
            return seen, False
        matches = await queries.customers_by_email(conn, parsed.sender)
        sites_by_customer = {
            m["customer_id"]: [s["site_id"] for s in await queries.sites_of(conn, m["customer_id"])]
            for m in matches
        }
        where = route(matches, sites_by_customer)
        row: dict[str, Any] = {
            "email_id": parsed.email_id,
            "message_id": parsed.message_id,
            "sender": parsed.sender,
            "sender_name": parsed.sender_name,
            "subject": parsed.subject,
            "body": parsed.body,
            "sent_at": parsed.sent_at,
            "raw_key": raw_key,
            "attachments": [r.model_dump(mode="json") for r in refs],
            "status": "triage",
            "triage_reason": where.triage_reason,
            "customer_id": where.customer_id,
            "work_order_id": None,
            "handled_by": None,
            "handled_at": None,
            "received_at": now,
        }
        if where.triage_reason is None:
            assert where.customer_id and where.site_id
            ctx = handlers.Context(conn, store, settings)
            filed = AssignEmail(
                parsed.email_id, where.customer_id, where.site_id, by=EMAIL_LOGGER, at=now
            )
            try:
                async with conn.begin_nested():
                    outcome = await _log(ctx, row, filed, contact_id=where.contact_id)
                row |= {"status": "logged", "work_order_id": outcome.state.id}
            except DomainError as exc:
                row["triage_reason"] = f"could not be logged automatically: {exc}"
        await queries.insert_email(conn, row)
    return row, True


async def _log(
    ctx: handlers.Context,
    email: dict[str, Any],
    filed: AssignEmail,
    contact_id: str | None = None,
) -> handlers.Outcome:
    """Log the request ``email`` becomes where ``filed`` puts it (``contact_id``: its sender)."""
    description = f"{email['subject']}\n\n{email['body']}".strip() or "(empty email)"
    return await handlers.log_request(
        LogRequest(
            work_order_id=email_work_order_id(email["email_id"]),
            customer_id=filed.customer_id,
            site_id=filed.site_id,
            asset_id=filed.asset_id,
            contact_id=contact_id,
            channel=Channel.EMAIL,
            description=description[:5000],
            priority=filed.priority or ctx.settings.email_priority,
            job_type=filed.job_type,
            logged_by=filed.by,
            logged_at=filed.at,
            external_reference=email["message_id"],
            attachments=tuple(AttachmentRef.model_validate(a) for a in email["attachments"]),
        ),
        ctx,
    )


async def _in_triage(conn: AsyncConnection, email_id: str) -> dict[str, Any]:
    """The email, locked until the transaction ends, if it is waiting in triage."""
    email = await queries.lock_email(conn, email_id)
    if email is None:
        raise NotFoundError(f"no inbound email {email_id}")
    if email["status"] != "triage":
        raise InvalidTransitionError(
            f"email {email_id} is {email['status']}, not waiting in triage"
        )
    return email


async def assign(cmd: AssignEmail, ctx: handlers.Context) -> dict[str, Any]:
    """The office turns a triaged email into a request for the customer and site it chose."""
    email = await _in_triage(ctx.conn, cmd.email_id)
    outcome = await _log(ctx, email, cmd)
    values = {
        "status": "assigned",
        "customer_id": cmd.customer_id,
        "work_order_id": outcome.state.id,
        "handled_by": cmd.by,
        "handled_at": cmd.at,
    }
    await queries.update_email(ctx.conn, cmd.email_id, values)
    return email | values


async def dismiss(cmd: DismissEmail, conn: AsyncConnection) -> dict[str, Any]:
    """The office decides a triaged email is no request (spam, a thank-you); it stays recorded."""
    email = await _in_triage(conn, cmd.email_id)
    if not cmd.reason.strip():
        raise DomainError("say why the email is dismissed", field="reason")
    values = {
        "status": "dismissed",
        "triage_reason": cmd.reason,
        "handled_by": cmd.by,
        "handled_at": cmd.at,
    }
    await queries.update_email(conn, cmd.email_id, values)
    return email | values
