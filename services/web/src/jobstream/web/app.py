"""How the front door is assembled (ADR 0072).

The shared service frame (health, metrics, CLI) plus sessions, security headers, the
pages, the browser API and the live feed.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from jobstream.auth.keys import KeyFile
from jobstream.service import Runtime, ServiceDefinition, Worker
from jobstream.web import handlers
from jobstream.web.access import (
    NotAllowedError,
    PasswordChangeRequiredError,
    SignInRequiredError,
    home_for,
    sign_in_url,
)
from jobstream.web.config import WebSettings, get_settings
from jobstream.web.db.tables import metadata
from jobstream.web.live import Hub, LiveFeed
from jobstream.web.ratelimit import SlidingWindow
from jobstream.web.rendering import STATIC, render
from jobstream.web.security import SecurityHeaders, content_security_policy
from jobstream.web.upstream import ServiceUnavailableError, Upstream

DESCRIPTION = """
The front door for browsers: sign-in (accounts with Argon2id passwords, or an OpenID Connect
provider), the dispatch board, the office pages and the analyst dashboard, all on one
origin. It calls the five services' APIs as the signed-in person with short-lived RS256
tokens and publishes the keys they verify with at `/.well-known/jwks.json`.
"""


def _browser_wants_html(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api/", "/live", "/.well-known/")) and "text/html" in (
        request.headers.get("accept", "text/html")
    )


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequiredError)
    async def to_sign_in(_request: Request, exc: SignInRequiredError) -> Response:
        return RedirectResponse(sign_in_url(exc.next_path), status_code=303)

    @app.exception_handler(PasswordChangeRequiredError)
    async def to_password(_request: Request, _exc: PasswordChangeRequiredError) -> Response:
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(NotAllowedError)
    async def not_allowed(request: Request, exc: NotAllowedError) -> Response:
        return render(
            request,
            "error.html",
            exc.signed,
            status_code=403,
            title="Not for your account",
            message=(
                f"A {exc.signed.account.role.value} account cannot open this page. "
                "Your own pages are one click away."
            ),
            home=home_for(exc.signed.account.role),
        )

    @app.exception_handler(ServiceUnavailableError)
    async def unavailable(request: Request, exc: ServiceUnavailableError) -> Response:
        if not _browser_wants_html(request):
            return JSONResponse({"detail": str(exc)}, status_code=503)
        return render(
            request,
            "error.html",
            getattr(request.state, "signed_in", None),
            status_code=503,
            title="A service is not answering",
            message=f"{exc}. Try again in a moment; nothing was changed.",
            home="/",
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if not _browser_wants_html(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return render(
            request,
            "error.html",
            getattr(request.state, "signed_in", None),
            status_code=exc.status_code,
            title="That did not work",
            message=str(exc.detail),
            home="/",
        )

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, exc: RequestValidationError) -> Response:
        if not _browser_wants_html(request):
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()
        )
        return render(
            request,
            "error.html",
            getattr(request.state, "signed_in", None),
            status_code=422,
            title="Some of what was sent cannot be used",
            message=problems,
            home="/",
        )


def definition(settings: WebSettings | None = None) -> ServiceDefinition:
    """The web front door."""
    web = settings or get_settings()
    hub = Hub()

    def workers(runtime: Runtime) -> list[Worker]:
        return [LiveFeed(hub, runtime.settings.kafka.bootstrap_servers, runtime.settings.namespace)]

    def configure(app: FastAPI, runtime: Runtime) -> None:
        from jobstream.web.oidc import OidcClient

        auth = runtime.settings.auth
        app.state.web_settings = web
        app.state.hub = hub
        app.state.key_file = KeyFile(auth.signing_keys) if auth.signing_keys else None
        app.state.upstream = Upstream(web, auth)
        app.state.handler_context = handlers.Context(runtime.engine, web)
        app.state.oidc = OidcClient(web) if web.oidc_enabled else None
        app.state.sign_in_limit = SlidingWindow(web.sign_in_per_minute_per_client)
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
        app.add_middleware(
            SecurityHeaders,
            csp=content_security_policy(tile_url=web.map_tile_url, oidc_issuer=web.oidc_issuer),
            hsts=web.public_url.startswith("https://"),
        )
        _install_error_pages(app)

    return ServiceDefinition(
        name="web",
        metadata=metadata,
        migrations="jobstream.web.db:migrations",
        events_table=None,
        consumer_tables=None,
        routers=routers,
        workers=workers,
        title="Jobstream web",
        description=DESCRIPTION,
        configure=configure,
    )


def routers() -> list[Any]:
    """Every page and browser API route."""
    from jobstream.web.pages import admin, api, board, dashboard, office, portal, sign_in, tech

    return [
        sign_in.router,
        api.router,
        admin.router,
        board.router,
        office.router,
        dashboard.router,
        tech.router,
        portal.router,
    ]
