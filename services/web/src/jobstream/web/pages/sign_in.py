"""Signing in and out, changing one's password, and the front door's landing page.

Signing in is with a password or through the OpenID provider.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from jobstream.web import handlers
from jobstream.web.access import home_for, page_for, safe_next, signed_in
from jobstream.web.domain.accounts import AccountRejectedError
from jobstream.web.domain.commands import ChangeOwnPassword
from jobstream.web.rendering import render
from jobstream.web.sessions import (
    SignedIn,
    clear_session_cookie,
    csrf_matches,
    end_session,
    same_site_request,
    secure,
    set_session_cookie,
    sign_in_cookie_name,
    start_session,
)

router = APIRouter(include_in_schema=False)


def _context(request: Request) -> handlers.Context:
    ctx: handlers.Context = request.app.state.handler_context
    return ctx


def _sign_in_page(
    request: Request,
    *,
    next_path: str,
    error: str | None = None,
    username: str = "",
    status_code: int = 200,
) -> Response:
    """The sign-in form with a fresh login-CSRF value (cookie and hidden field)."""
    settings = request.app.state.web_settings
    guard = secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        None,
        status_code=status_code,
        next_path=next_path,
        error=error,
        username=username,
        guard=guard,
        password_allowed=not settings.oidc_only,
        oidc=settings.oidc_enabled,
        oidc_label=settings.oidc_label,
    )
    response.set_cookie(
        sign_in_cookie_name(request, settings),
        guard,
        max_age=3600,
        path="/",
        httponly=True,
        secure=secure(request, settings),
        samesite="strict",
    )
    return response


@router.get("/")
async def landing(request: Request) -> Response:
    """Signed in: the role's home page; otherwise the sign-in page."""
    signed = await signed_in(request)
    if signed is None:
        return RedirectResponse("/sign-in", status_code=303)
    return RedirectResponse(home_for(signed.account.role), status_code=303)


@router.get("/sign-in")
async def sign_in_form(request: Request, next: str = "") -> Response:
    """The sign-in page (already signed in: straight on)."""
    signed = await signed_in(request)
    if signed is not None and not signed.account.must_change_password:
        return RedirectResponse(safe_next(next, home_for(signed.account.role)), status_code=303)
    return _sign_in_page(request, next_path=safe_next(next, ""))


@router.post("/sign-in")
async def sign_in(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    guard: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the password; a session and the landing page, or the form with the reason."""
    settings = request.app.state.web_settings
    next_path = safe_next(next, "")
    expected_guard = request.cookies.get(sign_in_cookie_name(request, settings), "")
    if not same_site_request(request, settings) or not csrf_matches(expected_guard, guard):
        return _sign_in_page(
            request,
            next_path=next_path,
            error="The sign-in form was out of date or not sent from this site. Try again.",
            status_code=403,
        )
    if settings.oidc_only:
        return _sign_in_page(
            request,
            next_path=next_path,
            error=f"Sign in with {settings.oidc_label}.",
            status_code=403,
        )
    wait = request.app.state.sign_in_limit.retry_after(
        request.client.host if request.client else ""
    )
    if wait:
        response = _sign_in_page(
            request,
            next_path=next_path,
            username=username,
            error=f"Too many sign-in attempts from here. Wait {int(wait) + 1} seconds.",
            status_code=429,
        )
        response.headers["retry-after"] = str(int(wait) + 1)
        return response
    if not username.strip() or not password:
        return _sign_in_page(
            request,
            next_path=next_path,
            username=username,
            error="Enter your username and password.",
            status_code=422,
        )
    ctx = _context(request)
    try:
        account = await handlers.check_password_sign_in(username, password, ctx)
    except handlers.SignInRefusedError as refused:
        return _sign_in_page(
            request, next_path=next_path, username=username, error=refused.message, status_code=401
        )
    value = await start_session(
        ctx.engine,
        account,
        method="password",
        request=request,
        settings=settings,
        now=datetime.now(UTC),
    )
    target = (
        "/account/password"
        if account.must_change_password
        else safe_next(next_path, home_for(account.role))
    )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, settings, value)
    response.delete_cookie(sign_in_cookie_name(request, settings), path="/")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, signed: Annotated[SignedIn, Depends(page_for())]) -> Response:
    """End the session (its row is deleted) and, after an OpenID sign-in, at the provider."""
    settings = request.app.state.web_settings
    ended = await end_session(request.app.state.runtime.engine, signed.session_hash)
    target = "/sign-in"
    oidc = request.app.state.oidc
    if ended is not None and ended.method == "oidc" and oidc is not None:
        target = await oidc.end_session_url(ended.id_token_hint, request) or target
    response = RedirectResponse(target, status_code=303)
    clear_session_cookie(response, request, settings)
    return response


@router.get("/account/password")
async def password_form(
    request: Request, signed: Annotated[SignedIn, Depends(page_for())]
) -> Response:
    """Change one's own password (required after an admin set it)."""
    return render(request, "account_password.html", signed, errors={})


@router.post("/account/password")
async def change_password(
    request: Request,
    signed: Annotated[SignedIn, Depends(page_for())],
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
    repeat_password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A new password, or the form with what is wrong at its field."""
    errors: dict[str, str] = {}
    if signed.account.source != "local":
        errors["_"] = "Your password is kept by your organisation's sign-in, not here."
    elif new_password != repeat_password:
        errors["repeat_password"] = "the two new passwords differ"
    else:
        try:
            await handlers.change_own_password(
                ChangeOwnPassword(signed.account.account_id, current_password, new_password),
                _context(request),
            )
        except AccountRejectedError as exc:
            errors[exc.field or "_"] = exc.message
    if errors:
        return render(request, "account_password.html", signed, status_code=422, errors=errors)
    return RedirectResponse(home_for(signed.account.role) + "?notice=password-changed", 303)


def _callback_url(request: Request) -> str:
    settings = request.app.state.web_settings
    base = (
        settings.public_url.rstrip("/")
        if settings.public_url
        else str(request.base_url).rstrip("/")
    )
    return f"{base}/sign-in/oidc/callback"


@router.get("/sign-in/oidc")
async def oidc_start(request: Request, next: str = "") -> Response:
    """Off to the OpenID provider (authorization code with PKCE)."""
    oidc = request.app.state.oidc
    if oidc is None:
        return _sign_in_page(
            request, next_path="", error="No OpenID provider is set up here.", status_code=404
        )
    try:
        async with request.app.state.runtime.engine.begin() as conn:
            url = await oidc.start(conn, _callback_url(request), safe_next(next, ""))
    except Exception as exc:  # the provider is down or misconfigured: say so, never a 500
        return _sign_in_page(
            request,
            next_path=safe_next(next, ""),
            error=f"The sign-in provider is not answering ({type(exc).__name__}).",
            status_code=503,
        )
    return RedirectResponse(url, status_code=303)


@router.get("/sign-in/oidc/callback")
async def oidc_callback(
    request: Request,
    state: str = "",
    code: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    """Back from the provider: check everything, then a session like any other."""
    from jobstream.web.oidc import OidcRefusedError, account_for_claims

    oidc = request.app.state.oidc
    settings = request.app.state.web_settings
    if oidc is None:
        return _sign_in_page(
            request, next_path="", error="No OpenID provider is set up here.", status_code=404
        )
    if error:
        return _sign_in_page(
            request,
            next_path="",
            error=f"The provider did not sign you in: {error_description or error}.",
            status_code=401,
        )
    engine = request.app.state.runtime.engine
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            claims, id_token, next_path = await oidc.finish(
                conn, state=state, code=code, redirect_uri=_callback_url(request)
            )
            account = await account_for_claims(conn, claims, settings, now)
    except OidcRefusedError as refused:
        return _sign_in_page(
            request, next_path="", error=f"Not signed in: {refused}.", status_code=401
        )
    value = await start_session(
        engine,
        account,
        method="oidc",
        request=request,
        settings=settings,
        now=now,
        id_token_hint=id_token,
    )
    response = RedirectResponse(safe_next(next_path, home_for(account.role)), status_code=303)
    set_session_cookie(response, request, settings, value)
    return response
