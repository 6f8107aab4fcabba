"""Who may open what, and the CSRF check every state-changing request passes.

The signed-in person (through their session), and role checks for pages (a redirect to
sign-in, or a page saying why not) and for the browser API (401/403).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request, status

from jobstream.auth import Role
from jobstream.web.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    UNSAFE_METHODS,
    SignedIn,
    csrf_matches,
    load_session,
    same_site_request,
)

# Who works in the office: the board, the office pages.
OFFICE = frozenset({Role.DISPATCHER, Role.ADMIN})
# Who may read the analyst dashboard.
OFFICE_READERS = frozenset({Role.DISPATCHER, Role.ANALYST, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})
# Pages a person who must change their password may still open.
PASSWORD_CHANGE_PATHS = ("/account/password", "/sign-out")


class SignInRequiredError(Exception):
    """A page asked for a signed-in person and there is none: go and sign in."""

    def __init__(self, next_path: str) -> None:
        """Send the person to sign in, then back to ``next_path``."""
        super().__init__(next_path)
        self.next_path = next_path


class NotAllowedError(Exception):
    """Signed in, but this role may not open the page."""

    def __init__(self, signed: SignedIn, allowed: frozenset[Role]) -> None:
        """Refuse ``signed``, whose role is not among the ``allowed``."""
        super().__init__(signed.account.role.value)
        self.signed = signed
        self.allowed = allowed


class PasswordChangeRequiredError(Exception):
    """An admin set this person's password: they choose their own before anything else."""


async def signed_in(request: Request) -> SignedIn | None:
    """The request's session, looked up once per request."""
    if not hasattr(request.state, "signed_in"):
        runtime = request.app.state.runtime
        request.state.signed_in = await load_session(
            runtime.engine, request, request.app.state.web_settings, datetime.now(UTC)
        )
    found: SignedIn | None = request.state.signed_in
    return found


def page_for(*roles: Role) -> Callable[[Request], Coroutine[Any, Any, SignedIn]]:
    """Dependency of an HTML page open to ``roles`` (an empty list: anyone signed in)."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> SignedIn:
        signed = await signed_in(request)
        if signed is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequiredError(target)
        if signed.account.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
            raise PasswordChangeRequiredError
        if allowed and signed.account.role not in allowed:
            raise NotAllowedError(signed, allowed)
        await check_csrf(request, signed)
        return signed

    return dependency


def api_for(*roles: Role) -> Callable[[Request], Coroutine[Any, Any, SignedIn]]:
    """Dependency of a browser API route (JSON, event stream): 401 or 403, never a redirect."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> SignedIn:
        signed = await signed_in(request)
        if signed is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="sign in first")
        if signed.account.must_change_password:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="change your password first")
        if allowed and signed.account.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"a {signed.account.role.value} account may not do this",
            )
        await check_csrf(request, signed)
        return signed

    return dependency


async def check_csrf(request: Request, signed: SignedIn) -> None:
    """For a state-changing request: same site, and the session's CSRF token.

    The token comes in a header from scripts, in a form field from forms; 403 naming what
    is missing otherwise.
    """
    if request.method not in UNSAFE_METHODS:
        return
    if not same_site_request(request, request.app.state.web_settings):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="cross-site request refused")
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    if not csrf_matches(signed.csrf_token, given):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="the form is out of date or was not sent from this site: reload and try again",
        )


def sign_in_url(next_path: str) -> str:
    """The sign-in page, coming back to ``next_path`` afterwards."""
    return f"/sign-in?next={quote(next_path, safe='/')}"


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site (no open redirect), else ``default``."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and "\n" not in target
        and "\r" not in target
    ):
        return target
    return default


def home_for(role: Role) -> str:
    """Where a person lands after signing in."""
    return {
        Role.ADMIN: "/board",
        Role.DISPATCHER: "/board",
        Role.ANALYST: "/dashboard",
        Role.TECHNICIAN: "/tech",
        Role.CUSTOMER: "/portal",
    }[role]
