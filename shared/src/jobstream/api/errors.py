"""Refusals (``jobstream.errors``) as HTTP answers: one documented shape for each.

- 422 ``InvalidInputError``: ``{"detail": [{"loc": [where, field], "msg", "type"}]}``,
  the shape of FastAPI's own validation errors, so a client reads every 422 one way
  (``where`` is body, query or header; the field is left out when none is named).
- 409 ``ConflictError`` and 404 ``NotFoundError``: ``{"detail": "message"}``; when the
  refusal names a field or carries facts for the caller (the constraints an assignment
  would break), ``{"detail": {"error": "message", "field": ..., **facts}}``.

``create_app`` installs these handlers in every service, so a route or handler raises the
refusal and never builds an answer by hand. Two more answers live here for the same
reason: a concurrent edit (``ConcurrencyError``, 409) and a value PostgreSQL cannot store
(422), both after the command's transaction rolled back.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from jobstream.errors import ConflictError, InvalidInputError, NotFoundError, RefusedError
from jobstream.eventstore.store import ConcurrencyError

STATUS_OF: dict[type[RefusedError], int] = {
    InvalidInputError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    ConflictError: status.HTTP_409_CONFLICT,
    NotFoundError: status.HTTP_404_NOT_FOUND,
}


def invalid_detail(
    field: str | None, message: str, *, location: str = "body", kind: str = "value_error"
) -> list[dict[str, Any]]:
    """A 422's ``detail``, shaped like FastAPI's validation errors."""
    loc = [location, field] if field else [location]
    return [{"loc": loc, "msg": message, "type": kind}]


def status_of(exc: RefusedError) -> int:
    """The HTTP status a refusal answers with (a plain ``RefusedError`` is a conflict)."""
    for kind in type(exc).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return status.HTTP_409_CONFLICT


def detail_of(exc: RefusedError) -> Any:
    """The ``detail`` of a refusal's answer, in the shape its status documents."""
    if isinstance(exc, InvalidInputError):
        return invalid_detail(exc.field, exc.message, location=exc.location, kind=exc.kind)
    if exc.field is None and not exc.facts:
        return exc.message
    named = {"field": exc.field} if exc.field is not None else {}
    return jsonable_encoder({"error": exc.message, **named, **exc.facts})


def as_http(exc: RefusedError) -> HTTPException:
    """The refusal as an ``HTTPException``, for code that must raise one (a dependency)."""
    return HTTPException(status_of(exc), detail=detail_of(exc))


# PostgreSQL refuses some values that pass validation: the command's transaction has rolled
# back, and the caller sent them, so it is their 4xx (a field-level check names the field
# better; this keeps a missed one from becoming a 500).
UNSTORABLE_VALUES = {
    "22P05": "text may not contain the NUL character (\\u0000)",
    "22021": "text holds a character that cannot be stored",
    "22003": "a number is out of the range that can be stored",
}


def install_error_handlers(app: FastAPI) -> None:
    """Answer every refusal a route lets through in its documented shape."""

    @app.exception_handler(RefusedError)
    async def refused(_request: Request, exc: RefusedError) -> JSONResponse:
        return JSONResponse({"detail": detail_of(exc)}, status_code=status_of(exc))

    @app.exception_handler(ConcurrencyError)
    async def concurrency_conflict(_request: Request, exc: ConcurrencyError) -> JSONResponse:
        return JSONResponse(
            {"detail": f"concurrent edit: {exc}; reload and try again"},
            status_code=status.HTTP_409_CONFLICT,
        )

    @app.exception_handler(DataError)
    async def unstorable_value(_request: Request, exc: DataError) -> JSONResponse:
        message = UNSTORABLE_VALUES.get(getattr(exc.orig, "sqlstate", None) or "")
        if message is None:
            raise exc
        return JSONResponse(
            {"detail": invalid_detail(None, message)},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
