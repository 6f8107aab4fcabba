"""Photos for requests, and the files a request came with, read back for portal and office.

A photo is uploaded first as raw bytes (to the object store), then named in POST /requests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, HTTPException, Path, Request, Response, status

from jobstream.auth import Principal, Role
from jobstream.contracts.common import AttachmentRef
from jobstream.errors import NotFoundError
from jobstream.intake.api.common import (
    Logger,
    ObjectStoreDep,
    Reader,
    RuntimeDep,
    SettingsDep,
    event_store,
    responses,
    visible,
)
from jobstream.intake.api.schemas import PHOTO_EXAMPLE
from jobstream.intake.db import queries
from jobstream.intake.domain.attachments import (
    PHOTO_TYPE_NAMES,
    PHOTO_TYPES,
    looks_like,
    photo_filename,
    upload_key,
    uploads_of,
)
from jobstream.intake.domain.work_order import WorkOrder, evolve
from jobstream.objectstore import ObjectNotFoundError, ObjectStore
from jobstream.objectstore.base import check_key, describe
from jobstream.uploads import read_limited

router = APIRouter(tags=["requests"])

SHA256_HEADER = "X-Content-SHA256"
FILENAME_HEADER = "X-Filename"
_BINARY = {"type": "string", "format": "binary"}
_PHOTO_BYTES = "(the photo's bytes)"


def _uploader(principal: Principal) -> str | None:
    """The customer whose uploads these are, or None for the office."""
    return principal.customer_id if principal.role is Role.CUSTOMER else None


def _invalid(loc: list[str | int], message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": loc, "msg": message, "type": "value_error"}],
    )


@router.post(
    "/request-photos",
    response_model=AttachmentRef,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a photo for a request (raw bytes), then name it in POST /requests",
    responses={
        201: {
            "description": "Stored: send this reference in `attachments` of POST /requests",
            "content": {"application/json": {"example": PHOTO_EXAMPLE}},
        },
        200: {
            "description": "The same bytes were uploaded before: the same reference",
            "model": AttachmentRef,
            "content": {"application/json": {"example": PHOTO_EXAMPLE}},
        },
        **responses(401, 403),
        413: {"description": "Larger than INTAKE_MAX_PHOTO_BYTES (10 MiB by default)"},
        415: {"description": "Not a JPEG, PNG or WebP photo"},
        422: {"description": f"Empty, not the image it says, or {SHA256_HEADER} does not match"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The photo's bytes, as they are (not multipart).",
            "content": {
                media_type: {"schema": _BINARY, "example": _PHOTO_BYTES}
                for media_type in PHOTO_TYPES
            },
        }
    },
)
async def upload_photo(
    request: Request,
    response: Response,
    principal: Logger,
    settings: SettingsDep,
    objects: ObjectStoreDep,
    declared_sha256: Annotated[
        str | None,
        Header(
            alias=SHA256_HEADER,
            pattern=r"^[0-9a-fA-F]{64}$",
            description="The photo's SHA-256 (hex): refused (422) unless the body matches it.",
        ),
    ] = None,
    filename: Annotated[
        str | None,
        Header(
            alias=FILENAME_HEADER,
            max_length=255,
            description="The file's name on the device; reduced to plain characters.",
        ),
    ] = None,
) -> Any:
    """The body is the photo itself, with `Content-Type: image/jpeg`, `image/png` or `image/webp`.

    It is kept under the caller's own uploads
    (`intake/uploads/<customer id, or office>/<sha256>.<ext>`), so uploading the same bytes
    again is harmless (200). Send the answer as one of `attachments` in `POST /requests`.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in PHOTO_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"a photo must be {', '.join(PHOTO_TYPES)}, not {media_type or 'untyped'}",
        )
    data = await read_limited(request, settings.max_photo_bytes)
    if not data:
        raise _invalid(["body"], "the photo is empty")
    digest = hashlib.sha256(data).hexdigest()
    if declared_sha256 is not None and declared_sha256.lower() != digest:
        raise _invalid(
            ["header", SHA256_HEADER],
            f"{SHA256_HEADER} does not match the body, whose sha256 is {digest}",
        )
    if not looks_like(data, media_type):
        raise _invalid(["body"], f"the body is not a {PHOTO_TYPE_NAMES[media_type]} image")
    key = upload_key(_uploader(principal), digest, media_type)
    # The key names the bytes: one already there holds these very bytes.
    if await objects.exists(key):
        stored = describe(key, media_type, data)
        response.status_code = status.HTTP_200_OK
    else:
        stored = await objects.put(key, data, media_type)
    return AttachmentRef(
        key=stored.key,
        filename=photo_filename(filename, media_type),
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
    )


async def checked_attachments(
    objects: ObjectStore, principal: Principal, refs: Sequence[AttachmentRef]
) -> tuple[AttachmentRef, ...]:
    """The files a new request names, each the caller's own upload, stored as described.

    A customer's upload is under their prefix, the office's is any upload; each must still be
    stored exactly as described, else 422 naming it.
    """
    prefix = uploads_of(_uploader(principal))
    seen: set[str] = set()
    for index, ref in enumerate(refs):
        loc: list[str | int] = ["body", "attachments", index]
        try:
            check_key(ref.key)
        except ValueError as exc:
            raise _invalid(loc, f"{ref.key!r} is not an object key") from exc
        if not ref.key.startswith(prefix):
            raise _invalid(
                loc, f"{ref.key} is not one of your uploads (under {prefix}): POST /request-photos"
            )
        if ref.key in seen:
            raise _invalid(loc, f"{ref.key} is listed twice")
        seen.add(ref.key)
        try:
            data, content_type = await objects.get(ref.key)
        except ObjectNotFoundError as exc:
            raise _invalid(loc, f"nothing is stored under {ref.key}: upload it first") from exc
        stored = describe(ref.key, content_type, data)
        differ = [
            name
            for name in ("sha256", "size_bytes", "content_type")
            if getattr(stored, name) != getattr(ref, name)
        ]
        if differ:
            raise _invalid(
                loc, f"{' and '.join(differ)} differ from the upload stored under {ref.key}"
            )
    return tuple(refs)


@router.get(
    "/work-orders/{work_order_id}/attachments/{index}",
    response_class=Response,
    summary="A file the request came with (a photo from the portal, an email's attachment)",
    responses={
        200: {
            "description": "The bytes as stored, with their content type; the sha256 in "
            f"{SHA256_HEADER} and the ETag",
            "content": {
                **{t: {"schema": _BINARY, "example": _PHOTO_BYTES} for t in PHOTO_TYPES},
                "*/*": {"schema": _BINARY, "example": "(an emailed request's attachment)"},
            },
        },
        **responses(401, 403, 404),
    },
)
async def get_attachment(
    work_order_id: str,
    index: Annotated[
        int, Path(ge=0, description="Position in the work order's `attachments`, from 0")
    ],
    principal: Reader,
    runtime: RuntimeDep,
    objects: ObjectStoreDep,
) -> Response:
    """One of the work order's `attachments` (GET /work-orders/{id}).

    Checked against its recorded sha256 before it is served; a customer gets 404 for anyone
    else's work order. Photos are served inline; any other file as a download.
    """
    async with runtime.engine.connect() as conn:
        row = await queries.get_work_order(conn, work_order_id)
        if not visible(row, principal):
            raise NotFoundError(f"no work order {work_order_id}")
        state, _ = await event_store(runtime).fold(
            conn, work_order_id, WorkOrder(work_order_id), evolve
        )
    files = state.logged.attachments if state.logged else ()
    if index >= len(files):
        raise NotFoundError(f"work order {work_order_id} has no attachment {index}")
    ref = files[index]
    try:
        data, _ = await objects.get(ref.key)
    except ObjectNotFoundError as exc:
        raise NotFoundError("the file is missing") from exc
    if hashlib.sha256(data).hexdigest() != ref.sha256:
        raise HTTPException(500, detail="the stored file does not match its checksum")
    disposition = "inline" if ref.content_type in PHOTO_TYPES else "attachment"
    return Response(
        content=data,
        media_type=ref.content_type,
        headers={
            SHA256_HEADER: ref.sha256,
            "ETag": f'"{ref.sha256}"',
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(ref.filename)}",
            # A file someone sent must never run as a page of ours.
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
