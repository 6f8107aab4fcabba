"""The technician's app (a PWA, ADR 0075): the page shell, its manifest, its service worker.

Everything a technician does happens in the script, offline first: the jobs live in
IndexedDB, actions queue there and go to fieldupdates' ``POST /sync``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from jobstream.auth import Role
from jobstream.web.access import page_for
from jobstream.web.rendering import DIST, asset, render
from jobstream.web.sessions import SignedIn

router = APIRouter(include_in_schema=False)
TechnicianPage = Annotated[SignedIn, Depends(page_for(Role.TECHNICIAN))]

# What the service worker keeps so that the app opens with no network at all.
SHELL_ASSETS = ("app.css", "tech.js")


def shell_urls() -> list[str]:
    """The app shell: the page and the built files it loads."""
    return ["/tech", *(asset(name) for name in SHELL_ASSETS), "/static/favicon.svg"]


@router.get("/tech")
async def tech(request: Request, signed: TechnicianPage) -> Response:
    """The app shell; the script fills it from IndexedDB and keeps it in step with the server."""
    settings = request.app.state.web_settings
    today = datetime.now(UTC).astimezone(ZoneInfo(settings.time_zone)).date()
    response = render(
        request,
        "tech/app.html",
        signed,
        technician_id=signed.account.technician_id or "",
        today=today.isoformat(),
        tomorrow=(today + timedelta(days=1)).isoformat(),
    )
    return response


@router.get("/tech/manifest.webmanifest")
async def manifest() -> Response:
    """Installable on a phone's home screen; opens standalone on the job list.

    Public, like the static files: browsers fetch a manifest without cookies, and it holds
    no data.
    """
    body = {
        "name": "Jobstream — my jobs",
        "short_name": "My jobs",
        "start_url": "/tech",
        "scope": "/tech",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#12304f",
        "icons": [{"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"}],
    }
    return JSONResponse(body, media_type="application/manifest+json")


@router.get("/tech/sw.js")
async def service_worker(signed: TechnicianPage) -> Response:
    """The service worker, told which shell to keep.

    Its cache is named after the shell's content, so a new build replaces the old cache on
    the next visit online. Only a signed-in technician registers it; an update check after
    the session ended fails and the installed worker stays.
    """
    urls = shell_urls()
    version = hashlib.sha256(json.dumps(urls).encode()).hexdigest()[:12]
    built = DIST / asset("tech-sw.js").rsplit("/", 1)[-1]
    code = built.read_text() if built.exists() else ""
    preamble = f"self.JOBSTREAM_SHELL = {json.dumps({'version': version, 'urls': urls})};\n"
    return Response(
        preamble + code,
        media_type="text/javascript",
        # Browsers check a worker script for updates themselves; never serve a stale one.
        headers={"cache-control": "no-cache", "service-worker-allowed": "/tech"},
    )
