"""Idempotency keys: a retried mutating request gets the first answer, never a second effect."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.errors import InvalidInputError


def define_idempotency_table(metadata: MetaData) -> Table:
    """Add idempotency_keys to a service's metadata."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("scope", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("request_hash", Text, nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
    )


def request_hash(payload: Any) -> str:
    """A stable digest of a request body."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


async def lock_key(conn: AsyncConnection, scope: str, key: str) -> None:
    """Serialise concurrent requests with the same key until this transaction ends."""
    # Length-prefixed so that no (scope, key) pair can spell another's; PostgreSQL text
    # cannot hold the NUL byte a plain separator would need.
    lock_name = f"{len(scope)}:{scope}:{key}"
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(lock_name, 0))))


async def remembered(
    conn: AsyncConnection, table: Table, scope: str, key: str, digest: str
) -> tuple[int, Any] | None:
    """The stored (status, body) for this key, or None; refused if reused for another body."""
    row = (
        await conn.execute(
            select(table.c.request_hash, table.c.status_code, table.c.response).where(
                table.c.scope == scope, table.c.key == key
            )
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise InvalidInputError(
            "Idempotency-Key was already used with a different request body",
            field="Idempotency-Key",
            location="header",
            kind="idempotency_key_reused",
        )
    return row.status_code, row.response


async def remember(
    conn: AsyncConnection,
    table: Table,
    scope: str,
    key: str,
    digest: str,
    status_code: int,
    response: Any,
) -> None:
    """Store the answer in the same transaction as the command's effects."""
    await conn.execute(
        pg_insert(table).values(
            scope=scope, key=key, request_hash=digest, status_code=status_code, response=response
        )
    )


@dataclass(frozen=True)
class IdempotentCall:
    """One command's Idempotency-Key, with the one semantics every service uses.

    A key belongs to its caller and its command: it is scoped to ``command`` and the
    caller's token subject, so two users (or two commands) never share an answer by
    choosing the same key. Within that scope a retry with the same body gets the first
    answer (status and body) and does nothing again; the same key with another body is a
    422 naming the header. Concurrent retries are serialised on the key until the first
    one's transaction ends. No key: nothing is remembered.
    """

    table: Table
    scope: str
    key: str | None
    digest: str

    @classmethod
    def of(
        cls, table: Table, *, command: str, caller: str, key: str | None, payload: Any
    ) -> IdempotentCall:
        """The call of ``command`` by ``caller`` with ``payload`` under ``key``."""
        return cls(table, f"{command}:{caller}", key or None, request_hash(payload))

    async def replay(self, conn: AsyncConnection) -> tuple[int, Any] | None:
        """The first answer to this key, if there was one (take the lock first)."""
        if self.key is None:
            return None
        await lock_key(conn, self.scope, self.key)
        return await remembered(conn, self.table, self.scope, self.key, self.digest)

    async def keep(self, conn: AsyncConnection, status_code: int, response: Any) -> None:
        """Remember the answer, in the same transaction as the command's effects."""
        if self.key is not None:
            await remember(
                conn, self.table, self.scope, self.key, self.digest, status_code, response
            )
