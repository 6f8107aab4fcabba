"""The analyst dashboard, served by reporting, behind the front door's sign-in.

The page and its charts are fetched from reporting as the signed-in person (no pasted
token).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from jobstream.web.access import OFFICE_READERS, page_for
from jobstream.web.sessions import SignedIn

router = APIRouter(include_in_schema=False)
DASHBOARD_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
OfficeReader = Annotated[SignedIn, Depends(page_for(*OFFICE_READERS))]
# Reporting's page has its own sign-out form (for its own cookie); here the front door's
# navigation replaces it.
_SIGN_OUT_FORM = re.compile(rb'<form method="post" action="/logout".*?</form>', re.DOTALL)


@router.get("/dashboard")
async def dashboard(request: Request, signed: OfficeReader) -> Response:
    """KPIs, trends and backlog (reporting's page, inside the front door's frame)."""
    answer = await request.app.state.upstream.get(
        "reporting", "/dashboard", signed.principal, **dict(request.query_params)
    )
    if not answer.ok:
        return Response(
            answer.content, status_code=answer.status, media_type=answer.headers.get("content-type")
        )
    page = _SIGN_OUT_FORM.sub(b"", answer.content)
    nav = b'<p class="frame-nav"><a href="/">\xe2\x86\x90 Jobstream</a></p>'
    page = page.replace(b"<body>", b"<body>" + nav, 1)
    # Reporting's page and its inline SVG charts carry their styles inline; nothing on it
    # runs script, so only style-src is widened here.
    return Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={"content-security-policy": DASHBOARD_CSP},
    )


@router.get("/charts/{name}.{fmt}")
async def chart(request: Request, signed: OfficeReader, name: str, fmt: str) -> Response:
    """One dashboard chart as SVG or PNG."""
    answer = await request.app.state.upstream.get(
        "reporting", f"/charts/{name}.{fmt}", signed.principal, **dict(request.query_params)
    )
    return Response(
        answer.content, status_code=answer.status, media_type=answer.headers.get("content-type")
    )
