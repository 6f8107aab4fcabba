"""Photos, signatures and documents: bytes to the object store, identity to the log."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder

from jobstream.auth import Principal, Role
from jobstream.contracts.base import UtcDatetime
from jobstream.contracts.common import Identifier
from jobstream.contracts.field import AttachmentKind
from jobstream.errors import ConflictError, InvalidInputError, NotFoundError
from jobstream.fieldupdates import handlers
from jobstream.fieldupdates.api.deps import (
    JobReader,
    Technician,
    handler_context,
    object_store,
    technician_of,
)
from jobstream.fieldupdates.config import DEFAULT_CONTENT_TYPES
from jobstream.fieldupdates.db import queries
from jobstream.fieldupdates.domain.commands import ApplyDeviceActions, IncomingAction
from jobstream.ids import derived_id
from jobstream.objectstore import ObjectNotFoundError, ObjectStore
from jobstream.service import Runtime, get_runtime
from jobstream.uploads import read_limited

router = APIRouter(tags=["attachments"])
SHA256_HEADER = "X-Content-SHA256"
# The OpenAPI description, kept apart from the docstring as published (line break included).
UPLOAD_DESCRIPTION = (
    "PUT by the device's own attachment id, so a re-sent upload is harmless. Upload files\n"
    "before syncing the actions that refer to them (a signature, a photo answer)."
)


@dataclass(frozen=True)
class UploadMeta:
    """What the device says of an upload besides its bytes (query and headers)."""

    kind: Annotated[AttachmentKind, Query()] = AttachmentKind.PHOTO
    caption: Annotated[str, Query(max_length=500)] = ""
    content_type: Annotated[str, Header()] = "application/octet-stream"
    declared_sha256: Annotated[
        str | None, Header(alias=SHA256_HEADER, pattern=r"^[0-9a-fA-F]{64}$")
    ] = None
    device_time: Annotated[UtcDatetime | None, Header(alias="X-Device-Time")] = None

    @property
    def media_type(self) -> str:
        """The content type without its parameters, in lower case."""
        return self.content_type.split(";")[0].strip().lower()


@router.put(
    "/jobs/{work_order_id}/attachments/{attachment_id}",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a photo, signature or document (AttachmentAdded)",
    responses={
        200: {"description": "Already uploaded (same bytes)"},
        409: {"description": "The id holds other bytes, or the job was taken away (kept)"},
        413: {"description": "Too large"},
        415: {"description": "Content type not accepted for this kind"},
        422: {"description": "Checksum mismatch or empty body"},
    },
    description=UPLOAD_DESCRIPTION,
)
async def upload(
    work_order_id: str,
    attachment_id: Identifier,
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(Technician)],
    ctx: Annotated[handlers.Context, Depends(handler_context)],
    store: Annotated[ObjectStore, Depends(object_store)],
    meta: Annotated[UploadMeta, Depends()],
) -> dict[str, Any]:
    """Store an attachment's bytes, then record it on the job as the device's action."""
    technician_id = technician_of(principal)
    kind, media_type = meta.kind, meta.media_type
    if media_type not in DEFAULT_CONTENT_TYPES[kind.value]:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"a {kind.value} must be one of {', '.join(DEFAULT_CONTENT_TYPES[kind.value])}",
        )
    async with ctx.engine.connect() as conn:
        row = await queries.get_job(conn, work_order_id)
        held = await queries.technicians_of(conn, work_order_id) if row else frozenset()
        existing = await queries.get_attachment(conn, attachment_id)
    if row is None or technician_id not in held:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this job is not assigned to you")
    data = await read_limited(request, ctx.settings.max_attachment_bytes)
    if not data:
        raise InvalidInputError("the file is empty")
    digest = hashlib.sha256(data).hexdigest()
    if meta.declared_sha256 is not None and meta.declared_sha256.lower() != digest:
        raise InvalidInputError(
            f"checksum mismatch: got {digest}", field=SHA256_HEADER, location="header"
        )
    if existing is not None and (
        existing["sha256"] != digest or existing["work_order_id"] != work_order_id
    ):
        raise ConflictError(f"attachment {attachment_id} already holds other bytes")
    # Bytes first, then the event: a crash in between leaves an unreferenced object that a
    # retried upload overwrites with the same bytes, never an event without its file.
    stored = await store.put(
        handlers.attachment_key(work_order_id, attachment_id), data, media_type
    )
    received_at = datetime.now(UTC)
    action = IncomingAction(
        action_id=derived_id("attachment", attachment_id),
        work_order_id=work_order_id,
        action_type="add_attachment",
        device_time=meta.device_time or received_at,
        device_seq=0,
        payload={
            "attachment_id": attachment_id,
            "kind": kind.value,
            "content_type": media_type,
            "size_bytes": stored.size_bytes,
            "sha256": stored.sha256,
            "caption": meta.caption,
        },
    )
    cmd = ApplyDeviceActions(technician_id, (action,), received_at)
    [result] = (await handlers.apply_device_actions(cmd, ctx)).results
    if result.status == "rejected":
        # Shaped as the device's own action endpoints answer a refusal (the app reads
        # ``detail.detail``), with the checksum of the bytes that were stored.
        raise HTTPException(
            409, detail={"detail": result.reason, "kept": result.kept, "sha256": stored.sha256}
        )
    if result.status == "duplicate":
        response.status_code = status.HTTP_200_OK
    return jsonable_encoder(
        {
            "attachment_id": attachment_id,
            "kind": kind.value,
            "content_type": media_type,
            "size_bytes": stored.size_bytes,
            "sha256": stored.sha256,
            "status": result.status,
        }
    )


@router.get(
    "/jobs/{work_order_id}/attachments/{attachment_id}",
    summary="Download an attachment (its sha256 in X-Content-SHA256)",
    response_class=Response,
)
async def download(
    work_order_id: str,
    attachment_id: str,
    principal: Annotated[Principal, Depends(JobReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    store: Annotated[ObjectStore, Depends(object_store)],
) -> Response:
    """The bytes as uploaded; checked against the recorded sha256 before they are served."""
    async with runtime.engine.connect() as conn:
        row = await queries.get_job(conn, work_order_id)
        meta = await queries.get_attachment(conn, attachment_id)
    if row is None or meta is None or meta["work_order_id"] != work_order_id:
        raise NotFoundError("no such attachment")
    if principal.role is Role.TECHNICIAN and row["technician_id"] != principal.technician_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this job is not assigned to you")
    try:
        data, content_type = await store.get(meta["object_key"])
    except ObjectNotFoundError as exc:
        raise NotFoundError("the file is missing") from exc
    if hashlib.sha256(data).hexdigest() != meta["sha256"]:
        raise HTTPException(500, detail="the stored file does not match its checksum")
    return Response(
        content=data,
        media_type=content_type,
        headers={SHA256_HEADER: meta["sha256"], "ETag": f'"{meta["sha256"]}"'},
    )
