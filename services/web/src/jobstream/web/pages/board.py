"""The dispatch board's page (ADR 0074).

A shell the board script fills from dispatch's board API and keeps live from the event
stream.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from jobstream.web.access import OFFICE, page_for
from jobstream.web.rendering import render
from jobstream.web.sessions import SignedIn

router = APIRouter(include_in_schema=False)
Office = Annotated[SignedIn, Depends(page_for(*OFFICE))]


@router.get("/board")
async def board(request: Request, signed: Office, day: date | None = None) -> Response:
    """One day per view (today unless ``day``), every technician a row."""
    settings = request.app.state.web_settings
    today = datetime.now(UTC).astimezone(ZoneInfo(settings.time_zone)).date()
    return render(
        request,
        "board.html",
        signed,
        day=(day or today).isoformat(),
        today=today.isoformat(),
        tiles=settings.map_tile_url,
        attribution=settings.map_attribution,
    )
