"""What every intake route shares: roles, error mapping, idempotency keys and If-Match."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, Response, status
from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.auth import Principal, Role, require_roles
from jobstream.eventstore.store import EventStore
from jobstream.idempotency import IdempotentCall
from jobstream.intake.config import IntakeSettings, get_settings
from jobstream.intake.db.tables import idempotency_keys
from jobstream.intake.domain.sla import SlaError
from jobstream.intake.domain.work_order import DomainError, InvalidTransition
from jobstream.intake.handlers import NotFound
from jobstream.objectstore import ObjectStore, object_store_from_settings
from jobstream.service import Runtime, get_runtime

Office = Annotated[Principal, Depends(require_roles(Role.DISPATCHER))]
# Approving spends money: the office manager (admin) decides, not the dispatcher.
Approver = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Reader = Annotated[Principal, Depends(require_roles(Role.DISPATCHER, Role.ANALYST, Role.CUSTOMER))]
OfficeReader = Annotated[Principal, Depends(require_roles(Role.DISPATCHER, Role.ANALYST))]
Logger = Annotated[Principal, Depends(require_roles(Role.DISPATCHER, Role.CUSTOMER))]


async def customer_only(
    principal: Annotated[Principal, Depends(require_roles(Role.CUSTOMER))],
) -> Principal:
    """The caller, if a customer: what only the customer can say (not even an admin says it
    for them), such as how the visit went."""
    if principal.role is not Role.CUSTOMER:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"role {principal.role.value} may not do this; allowed: customer",
        )
    return principal


Customer = Annotated[Principal, Depends(customer_only)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="Retrying with the same key returns the first answer and does nothing again.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        description='The version you saw (the ETag of GET /work-orders/{id}, e.g. "3"); '
        "a newer version answers 409.",
    ),
]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid bearer token"},
    403: {"description": "The caller's role may not do this"},
    404: {"description": "No such record (or not the caller's)"},
    409: {"description": "Not allowed in the current state, or a concurrent edit"},
    422: {"description": "Invalid input; `detail[].loc` names the field"},
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error responses an operation documents."""
    return {code: ERRORS[code] for code in codes}


async def intake_settings(request: Request) -> IntakeSettings:
    """This process's intake settings (read from the environment once; async, so FastAPI
    does not hand each request to a worker thread for it)."""
    settings = getattr(request.app.state, "intake_settings", None)
    if settings is None:
        settings = request.app.state.intake_settings = get_settings()
    return settings


async def object_store(request: Request) -> ObjectStore:
    """This process's object store."""
    store = getattr(request.app.state, "intake_object_store", None)
    if store is None:
        store = request.app.state.intake_object_store = object_store_from_settings()
    return store


SettingsDep = Annotated[IntakeSettings, Depends(intake_settings)]
ObjectStoreDep = Annotated[ObjectStore, Depends(object_store)]


def visible(row: dict[str, Any] | None, principal: Principal) -> bool:
    """Whether the caller may see this work order row: a customer only their own."""
    if row is None:
        return False
    return principal.role is not Role.CUSTOMER or row["customer_id"] == principal.customer_id


def event_store(runtime: Runtime) -> EventStore:
    """The work order event store."""
    assert runtime.store is not None, "intake always has an event store"
    return runtime.store


def unprocessable(field: str | None, message: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": ["body", field or "body"], "msg": message, "type": "value_error"}],
    )


@contextmanager
def domain_errors() -> Iterator[None]:
    """Domain refusals as HTTP answers: bad input 422, wrong state 409, unknown id 404."""
    try:
        yield
    except DomainError as exc:
        raise unprocessable(exc.field, str(exc)) from exc
    except SlaError as exc:
        raise unprocessable(None, str(exc)) from exc
    except InvalidTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc


def expected_version(if_match: str | None) -> int | None:
    """The version in an If-Match header ("3", W/"3" or 3), or None."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[
                {
                    "loc": ["header", "if-match"],
                    "msg": "If-Match must be a version number",
                    "type": "value_error",
                }
            ],
        )
    return int(value)


async def mutate(
    runtime: Runtime,
    principal: Principal,
    *,
    scope: str,
    idempotency_key: str | None,
    body: Any,
    response: Response,
    status_code: int,
    work: Callable[[AsyncConnection], Awaitable[Any]],
) -> Any:
    """Run ``work`` in one transaction; with an Idempotency-Key, a retry gets the first answer."""
    call = IdempotentCall.of(
        idempotency_keys, command=scope, caller=principal.subject, key=idempotency_key, payload=body
    )
    async with runtime.engine.begin() as conn:
        previous = await call.replay(conn)
        if previous is not None:
            response.status_code = previous[0]
            response.headers["Idempotent-Replayed"] = "true"
            return previous[1]
        with domain_errors():
            result = jsonable_encoder(await work(conn))
        await call.keep(conn, status_code, result)
    response.status_code = status_code
    return result
