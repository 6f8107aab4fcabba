"""The browser API: the services' APIs, live changes and the published signing keys.

The five services' APIs are under ``/api/<service>/…``, called as the signed-in person
(the services apply their role rules); live changes come as server-sent events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse

from jobstream.web.access import api_for, signed_in
from jobstream.web.config import SERVICES
from jobstream.web.live import stream_item, visible_to
from jobstream.web.sessions import SignedIn
from jobstream.web.upstream import (
    FORWARDED_REQUEST_HEADERS,
    FORWARDED_RESPONSE_HEADERS,
    ServiceUnavailableError,
)

router = APIRouter(include_in_schema=False)
MAX_BODY = 25 * 1024 * 1024  # an attachment upload's limit is fieldupdates'; this is a guard


@router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> JSONResponse:
    """The public keys every service verifies tokens with (public, cacheable briefly)."""
    keys = request.app.state.key_file.current()
    return JSONResponse(keys.jwks(), headers={"cache-control": "public, max-age=60"})


@router.api_route("/api/{service}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def proxy(
    request: Request,
    service: str,
    path: str,
    signed: Annotated[SignedIn, Depends(api_for())],
) -> Response:
    """``/api/dispatch/board?day=…`` → dispatch's ``/board?day=…``, as this person."""
    if service not in SERVICES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no service {service}")
    if path.startswith(("healthz", "readyz", "metrics", "docs", "openapi")):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="not served to browsers")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail="too large")
    headers = {k: v for k, v in request.headers.items() if k in FORWARDED_REQUEST_HEADERS}
    try:
        answer = await request.app.state.upstream.call(
            service,
            request.method,
            path,
            signed.principal,
            params=list(request.query_params.multi_items()),
            content=body or None,
            headers=headers,
        )
    except ServiceUnavailableError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=503)
    passed = {k: v for k, v in answer.headers.items() if k in FORWARDED_RESPONSE_HEADERS}
    return Response(answer.content, status_code=answer.status, headers=passed)


@router.get("/live")
async def live(request: Request, signed: Annotated[SignedIn, Depends(api_for())]) -> Response:
    """Server-sent events: ``change`` for every event this person's pages may care about.

    A technician hears of their own jobs, a customer of theirs, the office of all.
    """
    hub = request.app.state.hub
    account = signed.account

    async def changes() -> AsyncIterator[dict[str, Any]]:
        async with hub.subscribe() as queue:
            yield {"event": "ready", "data": "{}"}
            while True:
                try:
                    change = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    # Still signed in? A session ended elsewhere closes its streams too.
                    request.state.__dict__.pop("signed_in", None)
                    if await signed_in(request) is None:
                        return
                    continue
                if change is None:
                    return
                if visible_to(
                    change, technician_id=account.technician_id, customer_id=account.customer_id
                ):
                    yield stream_item(change)

    return EventSourceResponse(changes(), ping=10, headers={"cache-control": "no-store"})
