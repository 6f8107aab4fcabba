"""HTTP plumbing for every service: health, readiness, metrics and request context."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from jobstream.observability.metrics import HTTP_REQUESTS, READINESS_CHANGES, READY

log = structlog.get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]

# A check that takes longer counts as failed: a scrape of /metrics (which evaluates
# readiness too) must not hang on a database that does not answer.
CHECK_TIMEOUT_S = 2.0


def health_router(checks: dict[str, ReadinessCheck], service: str = "") -> APIRouter:
    """/healthz (alive), /readyz (dependencies answer), /metrics (Prometheus).

    Every readiness evaluation, by a probe or by a scrape, sets ``jobstream_ready`` and
    counts a change of state in ``jobstream_readiness_changes_total`` (ADR 0084).
    """
    router = APIRouter(tags=["operations"])
    ready_gauge = READY.labels(service=service)
    changes = READINESS_CHANGES.labels(service=service)
    last: list[bool] = []

    async def evaluate() -> tuple[bool, dict[str, str]]:
        results: dict[str, str] = {}
        ready = True
        for name, check in checks.items():
            try:
                ok, detail = await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_S)
            except Exception as exc:
                ok, detail = False, type(exc).__name__
            results[name] = detail
            ready = ready and ok
        if last and last[0] != ready:
            changes.inc()
        last[:] = [ready]
        ready_gauge.set(1 if ready else 0)
        return ready, results

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: database, broker clients and workers are up")
    async def readyz() -> JSONResponse:
        ready, results = await evaluate()
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": results},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        # Readiness as of this scrape, whether or not anything probes /readyz.
        await evaluate()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def install_request_context(app: FastAPI, service: str) -> None:
    """Bind a correlation id to every request's logs, echo it back, and time the request."""

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        correlation_id = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["x-correlation-id"] = correlation_id
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(service, request.method, template, str(status)).observe(elapsed)
            if template not in ("/healthz", "/readyz", "/metrics"):
                log.info(
                    "http_request",
                    method=request.method,
                    route=template,
                    status=status,
                    ms=round(elapsed * 1000, 1),
                )
            structlog.contextvars.unbind_contextvars("correlation_id")
