"""Reads and writes of accounts, sessions, the audit trail and pending OpenID sign-ins."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.auth import Role
from jobstream.web.db.tables import account_audit, accounts, oidc_pending, sessions
from jobstream.web.domain.accounts import Account


def account_from_row(row: Any) -> Account:
    """The domain's account from a row of ``accounts``."""
    return Account(
        account_id=row.account_id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        technician_id=row.technician_id,
        customer_id=row.customer_id,
        email=row.email,
        source=row.source,
        must_change_password=row.must_change_password,
        failed_sign_ins=row.failed_sign_ins,
        locked_until=row.locked_until,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
        version=row.version,
        last_sign_in_at=row.last_sign_in_at,
        has_password=row.password_hash is not None,
    )


def new_account_id() -> str:
    """A fresh account id."""
    return f"acc-{uuid.uuid4().hex[:16]}"


async def account_by_username(conn: AsyncConnection, username: str) -> Any | None:
    """The row (with its password hash) of ``username``, or None."""
    result = await conn.execute(sa.select(accounts).where(accounts.c.username == username))
    return result.first()


async def account_by_id(conn: AsyncConnection, account_id: str) -> Any | None:
    """The row of ``account_id``, or None."""
    result = await conn.execute(sa.select(accounts).where(accounts.c.account_id == account_id))
    return result.first()


async def account_by_oidc(conn: AsyncConnection, issuer: str, subject: str) -> Any | None:
    """The account an OpenID identity signed in as before, or None."""
    result = await conn.execute(
        sa.select(accounts).where(
            accounts.c.oidc_issuer == issuer, accounts.c.oidc_subject == subject
        )
    )
    return result.first()


async def list_accounts(conn: AsyncConnection) -> list[Account]:
    """Every account, by role then username."""
    result = await conn.execute(sa.select(accounts).order_by(accounts.c.role, accounts.c.username))
    return [account_from_row(r) for r in result]


async def insert_account(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Store a new account."""
    await conn.execute(sa.insert(accounts).values(**values))


async def update_account(
    conn: AsyncConnection, account_id: str, values: dict[str, Any], expected_version: int | None
) -> bool:
    """Change an account (bumping its version); False if its version moved meanwhile."""
    statement = (
        sa.update(accounts)
        .where(accounts.c.account_id == account_id)
        .values(**values, version=accounts.c.version + 1)
    )
    if expected_version is not None:
        statement = statement.where(accounts.c.version == expected_version)
    result = await conn.execute(statement)
    return result.rowcount == 1


async def failures_for_update(conn: AsyncConnection, account_id: str) -> int:
    """The wrong-password count, with the row locked.

    Concurrent wrong passwords are counted one after another, so parallel guesses cannot
    slip past the lockout.
    """
    result = await conn.execute(
        sa.select(accounts.c.failed_sign_ins)
        .where(accounts.c.account_id == account_id)
        .with_for_update()
    )
    return int(result.scalar_one())


async def record_failure(
    conn: AsyncConnection, account_id: str, failures: int, locked_until: datetime | None
) -> None:
    """Count a wrong password (not a version bump: no admin edit conflicts with it)."""
    await conn.execute(
        sa.update(accounts)
        .where(accounts.c.account_id == account_id)
        .values(failed_sign_ins=failures, locked_until=locked_until)
    )


async def record_sign_in(
    conn: AsyncConnection, account_id: str, now: datetime, new_hash: str | None
) -> None:
    """A successful sign-in: failures forgotten, lock lifted, hash upgraded if asked."""
    values: dict[str, Any] = {"failed_sign_ins": 0, "locked_until": None, "last_sign_in_at": now}
    if new_hash is not None:
        values["password_hash"] = new_hash
    await conn.execute(
        sa.update(accounts).where(accounts.c.account_id == account_id).values(**values)
    )


async def audit(
    conn: AsyncConnection,
    account_id: str,
    *,
    at: datetime,
    by: str,
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Note what was done to an account, by whom (never a password or a hash)."""
    await conn.execute(
        sa.insert(account_audit).values(
            account_id=account_id, at=at, by=by, action=action, detail=detail or {}
        )
    )


async def audit_trail(conn: AsyncConnection, account_id: str, limit: int = 50) -> list[Any]:
    """The latest changes to an account, newest first."""
    result = await conn.execute(
        sa.select(account_audit)
        .where(account_audit.c.account_id == account_id)
        .order_by(account_audit.c.id.desc())
        .limit(limit)
    )
    return list(result)


async def insert_session(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Store a new session."""
    await conn.execute(sa.insert(sessions).values(**values))


async def session_with_account(conn: AsyncConnection, session_hash: str) -> Any | None:
    """A session joined with its account, or None."""
    result = await conn.execute(
        sa.select(
            sessions.c.session_hash,
            sessions.c.csrf_token,
            sessions.c.method,
            sessions.c.created_at,
            sessions.c.last_seen_at,
            sessions.c.expires_at,
            sessions.c.id_token_hint,
            accounts,
        )
        .join(accounts, accounts.c.account_id == sessions.c.account_id)
        .where(sessions.c.session_hash == session_hash)
    )
    return result.first()


async def touch_session(conn: AsyncConnection, session_hash: str, now: datetime) -> None:
    """Note that a session was used."""
    await conn.execute(
        sa.update(sessions).where(sessions.c.session_hash == session_hash).values(last_seen_at=now)
    )


async def delete_session(conn: AsyncConnection, session_hash: str) -> Any | None:
    """End one session; the row it was (for the provider's sign-out), or None."""
    result = await conn.execute(
        sa.delete(sessions)
        .where(sessions.c.session_hash == session_hash)
        .returning(sessions.c.id_token_hint, sessions.c.method)
    )
    return result.first()


async def delete_sessions_of(conn: AsyncConnection, account_id: str) -> int:
    """End every session of an account; how many there were."""
    result = await conn.execute(sa.delete(sessions).where(sessions.c.account_id == account_id))
    return result.rowcount


async def delete_expired_sessions(conn: AsyncConnection, now: datetime) -> int:
    """Forget sessions past their end."""
    result = await conn.execute(sa.delete(sessions).where(sessions.c.expires_at <= now))
    return result.rowcount


async def insert_oidc_pending(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Remember a sign-in sent to the provider."""
    await conn.execute(sa.insert(oidc_pending).values(**values))


async def take_oidc_pending(conn: AsyncConnection, state: str, since: datetime) -> Any | None:
    """The pending sign-in for ``state`` (used once), if it is recent enough."""
    result = await conn.execute(
        sa.delete(oidc_pending)
        .where(oidc_pending.c.state == state)
        .returning(
            oidc_pending.c.code_verifier,
            oidc_pending.c.nonce,
            oidc_pending.c.next,
            oidc_pending.c.created_at,
        )
    )
    row = result.first()
    if row is None or row.created_at < since:
        return None
    return row
