"""One HTTP command: its transaction, its Idempotency-Key, its If-Match and its ETag.

A route declares the command it runs and hands ``run_command`` the work to do inside one
transaction; the helper replays a retried key's first answer (``IdempotentCall``: keys are
scoped to the command and the caller), keeps the new answer with the command's effects,
and lets refusals (``jobstream.errors``) through to the handlers ``create_app`` installs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header, Response
from fastapi.encoders import jsonable_encoder
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobstream.auth import Principal
from jobstream.errors import InvalidInputError
from jobstream.idempotency import IdempotentCall

REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="Retrying with the same key returns the first answer and does nothing again.",
    ),
]


def expected_version(if_match: str | None) -> int | None:
    """The version in an If-Match header (``"3"``, ``W/"3"`` or ``3``), or None for ``*``."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise InvalidInputError(
            "If-Match must be a version number", field="if-match", location="header"
        )
    return int(value)


def etag(version: int) -> str:
    """The ETag of a record at ``version`` (what If-Match sends back)."""
    return f'"{version}"'


@dataclass(frozen=True)
class Answer:
    """A command's answer: its status and JSON body, and whether it is a replay."""

    status_code: int
    body: Any
    replayed: bool = False

    def onto(self, response: Response) -> Any:
        """Set the status (and the replay header) on ``response``; the body to return."""
        response.status_code = self.status_code
        if self.replayed:
            response.headers[REPLAYED_HEADER] = "true"
        return self.body


async def run_command(
    engine: AsyncEngine,
    idempotency_keys: Table,
    principal: Principal,
    *,
    command: str,
    key: str | None,
    payload: Any,
    status_code: int,
    work: Callable[[AsyncConnection], Awaitable[Any]],
) -> Answer:
    """Run ``work`` in one transaction; a retry with the same key gets the first answer.

    ``command`` names what is done to what (``release:wo-1``): with the caller's subject,
    it scopes the key. A refusal raised by ``work`` rolls everything back, key included.
    """
    call = IdempotentCall.of(
        idempotency_keys, command=command, caller=principal.subject, key=key, payload=payload
    )
    async with engine.begin() as conn:
        previous = await call.replay(conn)
        if previous is not None:
            return Answer(previous[0], previous[1], replayed=True)
        body = jsonable_encoder(await work(conn))
        await call.keep(conn, status_code, body)
    return Answer(status_code, body)
