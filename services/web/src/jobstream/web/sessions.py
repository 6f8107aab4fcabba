"""Browser sessions, CSRF tokens and who is signed in (ADR 0072).

A session is a random cookie value, of which only the hash is stored.

The cookie is HttpOnly, SameSite=Lax (an OpenID provider's redirect back is a top-level
navigation from another site, which Lax allows and Strict would not), Secure and named
``__Host-…`` when the front door is reached over https. State-changing requests must carry
the session's CSRF token (a form field or the ``X-CSRF-Token`` header) and must not come
from another site (Origin / Sec-Fetch-Site), so a cross-site form post is refused even
though Lax would send the cookie on some of them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from jobstream.auth import Principal
from jobstream.web.config import WebSettings
from jobstream.web.db import queries
from jobstream.web.domain.accounts import Account

SECURE_COOKIE = "__Host-jobstream-session"
PLAIN_COOKIE = "jobstream-session"
SECURE_SIGN_IN_COOKIE = "__Host-jobstream-sign-in"
PLAIN_SIGN_IN_COOKIE = "jobstream-sign-in"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
# A session's last-seen time is written at most this often (not on every request).
TOUCH_EVERY = timedelta(minutes=1)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def secure(request: Request, settings: WebSettings) -> bool:
    """Whether browsers reach us over https (cookies are Secure then)."""
    if settings.public_url:
        return settings.public_url.startswith("https://")
    return request.url.scheme == "https"


def origin(request: Request, settings: WebSettings) -> str:
    """Our own origin, as browsers send it in ``Origin``."""
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        return f"{parts.scheme}://{parts.netloc}"
    return f"{request.url.scheme}://{request.url.netloc}"


def session_cookie_name(request: Request, settings: WebSettings) -> str:
    """The session cookie's name here."""
    return SECURE_COOKIE if secure(request, settings) else PLAIN_COOKIE


def sign_in_cookie_name(request: Request, settings: WebSettings) -> str:
    """The name of the cookie guarding the sign-in form against login CSRF."""
    return SECURE_SIGN_IN_COOKIE if secure(request, settings) else PLAIN_SIGN_IN_COOKIE


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request, through their session."""

    session_hash: str
    csrf_token: str
    method: str
    account: Account
    id_token_hint: str | None = None

    @property
    def principal(self) -> Principal:
        """Who the services see: the username, role and binding."""
        return Principal(
            subject=self.account.username,
            role=self.account.role,
            technician_id=self.account.technician_id,
            customer_id=self.account.customer_id,
        )


def client_address(request: Request) -> str:
    """The caller's address as this process saw it."""
    return request.client.host if request.client else "unknown"


async def start_session(
    engine: AsyncEngine,
    account: Account,
    *,
    method: str,
    request: Request,
    settings: WebSettings,
    now: datetime,
    id_token_hint: str | None = None,
) -> str:
    """A new session for ``account``; the cookie value (only its hash is stored)."""
    value = secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await queries.delete_expired_sessions(conn, now)
        await queries.insert_session(
            conn,
            {
                "session_hash": _hash(value),
                "account_id": account.account_id,
                "csrf_token": secrets.token_urlsafe(32),
                "method": method,
                "created_at": now,
                "last_seen_at": now,
                "expires_at": now + timedelta(hours=settings.session_max_hours),
                "client": client_address(request),
                "user_agent": (request.headers.get("user-agent") or "")[:300],
                "id_token_hint": id_token_hint,
            },
        )
    return value


async def load_session(
    engine: AsyncEngine, request: Request, settings: WebSettings, now: datetime
) -> SignedIn | None:
    """The request's live session, or None (absent, unknown, expired, idle, disabled)."""
    value = request.cookies.get(session_cookie_name(request, settings))
    if not value:
        return None
    session_hash = _hash(value)
    async with engine.connect() as conn:
        row = await queries.session_with_account(conn, session_hash)
    if row is None:
        return None
    idle = timedelta(minutes=settings.session_idle_minutes)
    if row.expires_at <= now or row.last_seen_at + idle <= now or row.disabled_at is not None:
        async with engine.begin() as conn:
            await queries.delete_session(conn, session_hash)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        async with engine.begin() as conn:
            await queries.touch_session(conn, session_hash, now)
    return SignedIn(
        session_hash=session_hash,
        csrf_token=row.csrf_token,
        method=row.method,
        account=queries.account_from_row(row),
        id_token_hint=row.id_token_hint,
    )


async def end_session(engine: AsyncEngine, session_hash: str) -> Any | None:
    """Sign out: the session row is deleted, so the cookie is worthless from now on."""
    async with engine.begin() as conn:
        return await queries.delete_session(conn, session_hash)


def set_session_cookie(
    response: Response, request: Request, settings: WebSettings, value: str
) -> None:
    """Hand the browser its session cookie."""
    response.set_cookie(
        session_cookie_name(request, settings),
        value,
        max_age=settings.session_max_hours * 3600,
        path="/",
        httponly=True,
        secure=secure(request, settings),
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request, settings: WebSettings) -> None:
    """Make the browser forget its session cookie."""
    response.delete_cookie(
        session_cookie_name(request, settings),
        path="/",
        httponly=True,
        secure=secure(request, settings),
        samesite="lax",
    )


def same_site_request(request: Request, settings: WebSettings) -> bool:
    """False when the browser says the request comes from another site."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    sent_origin = request.headers.get("origin")
    return sent_origin is None or sent_origin == origin(request, settings)


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens."""
    return bool(given) and hmac.compare_digest(expected, given or "")
