"""Pages from Jinja2 templates (autoescaped), with what every page needs.

Who is signed in, their CSRF token, the navigation their role may use, and the built
assets' URLs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from jobstream.auth import Role
from jobstream.web.access import ADMINS, OFFICE, OFFICE_READERS
from jobstream.web.domain.accounts import ROLE_LABELS
from jobstream.web.sessions import SignedIn

HERE = Path(__file__).parent
STATIC = HERE / "static"
DIST = STATIC / "dist"

templates = Jinja2Templates(directory=str(HERE / "templates"))

# (label, path, roles that see it) in the order of the navigation bar.
NAVIGATION: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("Board", "/board", OFFICE),
    ("Log a call", "/office/requests/new", OFFICE),
    ("Work orders", "/office/work-orders", OFFICE),
    ("Email", "/office/emails", OFFICE),
    ("Approvals", "/office/approvals", OFFICE),
    ("Device actions", "/office/device-actions", OFFICE),
    ("Dashboard", "/dashboard", OFFICE_READERS),
    ("My jobs", "/tech", frozenset({Role.TECHNICIAN})),
    ("My requests", "/portal", frozenset({Role.CUSTOMER})),
    ("Accounts", "/admin/accounts", ADMINS),
)


@lru_cache(maxsize=1)
def _manifest() -> dict[str, str]:
    """Built asset name → its content-hashed file (esbuild's metafile, written by build)."""
    path = DIST / "manifest.json"
    if not path.exists():
        return {}
    data: dict[str, str] = json.loads(path.read_text())
    return data


def asset(name: str) -> str:
    """The URL of a built asset (``board.js``), cache-busted by its content hash."""
    return f"/static/dist/{_manifest().get(name, name)}"


def assets_built() -> bool:
    """Whether the front end was built (npm run build)."""
    return bool(_manifest())


def local_time(value: Any, zone: str, fmt: str = "%d %b %H:%M") -> str:
    """A UTC instant (datetime or ISO text) in the business's zone."""
    if value in (None, ""):
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).strftime(fmt)


def money(minor: Any, currency: str = "GBP") -> str:
    """Integer minor units as an amount."""
    if minor is None:
        return "—"
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency, currency + " ")
    return f"{symbol}{int(minor) / 100:,.2f}"


# What a timeline line says of an event, besides its type: the fields people read first.
SUMMARY_FIELDS = (
    ("priority", "priority {}"),
    ("technician_id", "technician {}"),
    ("window_start", "from {}"),
    ("eta", "ETA {}"),
    ("reason", "“{}”"),
    ("outcome", "outcome {}"),
    ("invoice_number", "invoice {}"),
    ("gross_total_minor", "gross {}"),
    ("minutes", "{} min"),
    ("note", "“{}”"),
    ("text", "“{}”"),
)


@pass_context
def event_summary(context: Any, event: dict[str, Any]) -> str:
    """A few words about one reporting timeline event (times in the business's zone)."""
    data = event.get("data") or {}
    said = []
    for key, pattern in SUMMARY_FIELDS:
        value = data.get(key)
        if value in (None, "", [], {}):
            continue
        if key in ("window_start", "eta"):
            value = local_time(value, context.get("time_zone", "UTC"), "%H:%M")
        if key == "gross_total_minor":
            value = money(value, data.get("currency", "GBP"))
        said.append(pattern.format(str(value)[:120]))
    return ", ".join(said)


templates.env.globals.update(asset=asset, role_labels=ROLE_LABELS)
templates.env.filters["event_summary"] = event_summary
templates.env.filters["money"] = money


def render(
    request: Request,
    template: str,
    signed: SignedIn | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page, with the signed-in person's navigation and CSRF token."""
    settings = request.app.state.web_settings
    zone = settings.time_zone
    nav = (
        [
            (label, path, request.url.path.startswith(path))
            for label, path, roles in NAVIGATION
            if signed.account.role in roles
        ]
        if signed
        else []
    )
    response: HTMLResponse = templates.TemplateResponse(
        request,
        template,
        {
            "signed": signed,
            "csrf_token": signed.csrf_token if signed else "",
            "nav": nav,
            "time_zone": zone,
            "local": lambda v, fmt="%d %b %H:%M": local_time(v, zone, fmt),
            **context,
        },
        status_code=status_code,
    )
    return response
