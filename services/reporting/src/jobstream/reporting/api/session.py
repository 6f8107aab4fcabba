"""Signing in to the dashboard from a browser: a pasted token becomes a session cookie.

Paste a token once, get a session cookie that only the dashboard and chart pages accept
(docs/adr/0055).

A browser cannot add an Authorization header by itself. ``/login`` takes a token issued by
`jobstream token` in a form, checks it like any bearer token, and sets it as an HttpOnly,
SameSite=Strict cookie (Secure over https) that expires with the token. Only the read-only
dashboard and chart routes accept it; the JSON API still wants the header.
"""

from __future__ import annotations

import html
import time
from typing import Annotated
from urllib.parse import urlsplit

import jwt
from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from jobstream.auth import Principal, Role, principal_for

SESSION_COOKIE = "jobstream_session"
READERS = frozenset({Role.DISPATCHER, Role.ANALYST, Role.ADMIN})
# Where a sign-in may lead: the pages that accept the cookie.
LANDING_PREFIXES = ("/dashboard", "/charts/")
# Pages that show a token form must not be framed, cached, or load anything.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    # Not no-referrer: with it browsers send "Origin: null" on the form post, which we refuse.
    "Referrer-Policy": "same-origin",
}

_bearer = HTTPBearer(auto_error=False, description="JWT issued by `jobstream token`")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The same token, set by POST /login (dashboard and charts only)",
)

router = APIRouter(tags=["dashboard sign-in"])


def _unauthorised(detail: str, *, invalid: bool) -> HTTPException:
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": challenge}
    )


async def _reader(request: Request, token: str) -> Principal:
    """The token's principal if it may read reports; 401 or 403 otherwise."""
    principal = await principal_for(request, token)
    if principal.role not in READERS:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"role {principal.role.value} may not read reports; "
            f"allowed: {', '.join(sorted(r.value for r in READERS))}",
        )
    return principal


async def dashboard_reader(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """A reader of the dashboard and chart routes: their bearer token, or their session cookie.

    The FastAPI dependency those routes take.
    """
    if bearer is not None and bearer.scheme.lower() == "bearer":
        token = bearer.credentials
    elif cookie:
        token = cookie
    else:
        raise _unauthorised(
            "missing bearer token or session cookie (a browser signs in at /login)", invalid=False
        )
    return await _reader(request, token)


def _safe_landing(target: str) -> str:
    """``target`` if it is one of our dashboard pages (no open redirect), else /dashboard."""
    parts = urlsplit(target)
    if (
        not parts.scheme
        and not parts.netloc
        and target.startswith(LANDING_PREFIXES)
        and "\\" not in target
    ):
        return target
    return "/dashboard"


def _page(body: str, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return HTMLResponse(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Jobstream — sign in</title>
<link rel="icon" href="data:,">
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 34rem; color: #222; }}
textarea {{ width: 100%; font-family: monospace; }} .error {{ color: #a00; }}
</style></head><body>{body}</body></html>
""",
        status_code=status_code,
        headers={**PAGE_HEADERS, **(headers or {})},
    )


def _form(landing: str, error: str | None = None) -> str:
    message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return f"""<h1>Jobstream reporting</h1>
<p>Paste the token you were given (<code>jobstream token --role analyst</code>). It is kept
in a cookie for this site only, until it expires or you sign out.</p>
{message}
<form method="post" action="/login">
<label for="token">Token</label>
<textarea id="token" name="token" rows="6" required autocomplete="off"
 spellcheck="false"></textarea>
<input type="hidden" name="next" value="{html.escape(landing)}">
<p><button type="submit">Sign in</button></p>
</form>"""


@router.get("/login", response_class=HTMLResponse, summary="Sign-in form for the dashboard")
async def login_form(next: str = "/dashboard") -> Response:
    """A form to paste a token into (public: it shows nothing but the form)."""
    return _page(_form(_safe_landing(next)))


def _same_origin(request: Request) -> bool:
    """Whether a form post came from this site.

    Browsers send Origin on a POST (a client without one, such as curl, is not a browser
    another site could drive).
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host")


@router.post(
    "/login",
    response_class=HTMLResponse,
    summary="Check a token and keep it in a session cookie for the dashboard",
    responses={303: {"description": "Signed in: on to the dashboard"}},
)
async def login(
    request: Request,
    token: Annotated[str, Form(description="A token from `jobstream token`.")] = "",
    next: Annotated[str, Form(description="Page to go to afterwards.")] = "/dashboard",
) -> Response:
    """Sign in: 303 to the dashboard with the cookie set, or the form again with the reason."""
    landing = _safe_landing(next)
    if not _same_origin(request):
        return _page(_form(landing, "This form must be sent from this site."), 403)
    token = token.strip()
    if not token:
        return _page(_form(landing, "Paste a token."), 401, {"WWW-Authenticate": "Bearer"})
    try:
        await _reader(request, token)
    except HTTPException as exc:
        headers = dict(exc.headers or {})
        return _page(_form(landing, f"Not signed in: {exc.detail}."), exc.status_code, headers)
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    response = RedirectResponse(landing, status.HTTP_303_SEE_OTHER, headers=PAGE_HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max(int(expires - time.time()), 0),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post(
    "/logout",
    summary="Forget the session cookie",
    responses={303: {"description": "Signed out: back to the form"}},
)
async def logout(request: Request) -> Response:
    """Sign out: the cookie is cleared and the browser goes back to the form."""
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER, headers=PAGE_HEADERS)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response
