"""Account commands and sign-in.

Check (domain), hash outside any transaction, write the account and its audit row in one
transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from jobstream.web.config import WebSettings
from jobstream.web.db import queries
from jobstream.web.domain.accounts import (
    Account,
    AccountConflictError,
    AccountNotFoundError,
    AccountRejectedError,
    LockoutPolicy,
    after_wrong_password,
    check_binding,
    check_password,
    check_username,
)
from jobstream.web.domain.commands import (
    ChangeOwnPassword,
    CreateAccount,
    DisableAccount,
    EnableAccount,
    ResetPassword,
    UpdateAccount,
)
from jobstream.web.passwords import hash_password, needs_rehash, verify_password

# Every wrong-password answer is the same, whether or not the username exists.
WRONG_CREDENTIALS = "Wrong username or password."


@dataclass
class Context:
    """What a handler needs: the database, the rules, the clock."""

    engine: AsyncEngine
    settings: WebSettings
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @property
    def lockout(self) -> LockoutPolicy:
        """The lockout rule from the settings."""
        return LockoutPolicy(
            self.settings.lockout_failures, timedelta(minutes=self.settings.lockout_minutes)
        )


async def create_account(cmd: CreateAccount, ctx: Context) -> Account:
    """Store a new account; refused naming the field at fault, or a conflict if it is taken."""
    username = check_username(cmd.username)
    display_name = cmd.display_name.strip()
    if not display_name:
        raise AccountRejectedError("a name to show on the pages", field="display_name")
    technician_id, customer_id = check_binding(cmd.role, cmd.technician_id, cmd.customer_id)
    check_password(cmd.password, min_length=ctx.settings.password_min_length, username=username)
    password_hash = await hash_password(cmd.password)
    now = ctx.clock()
    account_id = queries.new_account_id()
    try:
        async with ctx.engine.begin() as conn:
            await queries.insert_account(
                conn,
                {
                    "account_id": account_id,
                    "username": username,
                    "display_name": display_name,
                    "role": cmd.role.value,
                    "technician_id": technician_id,
                    "customer_id": customer_id,
                    "email": (cmd.email or "").strip() or None,
                    "password_hash": password_hash,
                    "source": "local",
                    "must_change_password": cmd.must_change_password,
                    "created_at": now,
                    "updated_at": now,
                    "password_changed_at": now,
                },
            )
            await queries.audit(
                conn,
                account_id,
                at=now,
                by=cmd.by,
                action="created",
                detail={
                    "role": cmd.role.value,
                    "technician_id": technician_id,
                    "customer_id": customer_id,
                },
            )
            row = await queries.account_by_id(conn, account_id)
    except IntegrityError as exc:
        raise AccountConflictError(f"the username {username} is taken", field="username") from exc
    return queries.account_from_row(row)


async def _existing(conn: Any, username: str) -> Any:
    row = await queries.account_by_username(conn, username.strip().lower())
    if row is None:
        raise AccountNotFoundError(f"no account {username}")
    return row


async def update_account(cmd: UpdateAccount, ctx: Context) -> Account:
    """Change name, role and binding; a conflict if someone else changed it since."""
    display_name = cmd.display_name.strip()
    if not display_name:
        raise AccountRejectedError("a name to show on the pages", field="display_name")
    technician_id, customer_id = check_binding(cmd.role, cmd.technician_id, cmd.customer_id)
    now = ctx.clock()
    async with ctx.engine.begin() as conn:
        row = await _existing(conn, cmd.username)
        changed = await queries.update_account(
            conn,
            row.account_id,
            {
                "display_name": display_name,
                "role": cmd.role.value,
                "technician_id": technician_id,
                "customer_id": customer_id,
                "email": (cmd.email or "").strip() or None,
                "updated_at": now,
            },
            cmd.expected_version,
        )
        if not changed:
            raise AccountConflictError(
                "someone changed this account meanwhile: reload it and try again"
            )
        if row.role != cmd.role.value or (row.technician_id, row.customer_id) != (
            technician_id,
            customer_id,
        ):
            # What a session may touch changed: its tokens must not outlive the change.
            await queries.delete_sessions_of(conn, row.account_id)
        await queries.audit(
            conn,
            row.account_id,
            at=now,
            by=cmd.by,
            action="updated",
            detail={
                "role": cmd.role.value,
                "technician_id": technician_id,
                "customer_id": customer_id,
                "display_name": display_name,
            },
        )
        fresh = await queries.account_by_id(conn, row.account_id)
    return queries.account_from_row(fresh)


async def reset_password(cmd: ResetPassword, ctx: Context) -> Account:
    """An admin's new password for an account: unlocks it, ends its sessions."""
    username = cmd.username.strip().lower()
    check_password(cmd.password, min_length=ctx.settings.password_min_length, username=username)
    password_hash = await hash_password(cmd.password)
    now = ctx.clock()
    async with ctx.engine.begin() as conn:
        row = await _existing(conn, username)
        if row.source != "local":
            raise AccountRejectedError(
                "this account signs in through the OpenID provider", field="password"
            )
        await queries.update_account(
            conn,
            row.account_id,
            {
                "password_hash": password_hash,
                "must_change_password": True,
                "failed_sign_ins": 0,
                "locked_until": None,
                "password_changed_at": now,
                "updated_at": now,
            },
            None,
        )
        await queries.delete_sessions_of(conn, row.account_id)
        await queries.audit(conn, row.account_id, at=now, by=cmd.by, action="password_reset")
        fresh = await queries.account_by_id(conn, row.account_id)
    return queries.account_from_row(fresh)


async def change_own_password(cmd: ChangeOwnPassword, ctx: Context) -> Account:
    """A user's new password, after proving the current one."""
    async with ctx.engine.connect() as conn:
        row = await queries.account_by_id(conn, cmd.account_id)
    if row is None:
        raise AccountNotFoundError("no such account")
    if not await verify_password(row.password_hash, cmd.current_password):
        raise AccountRejectedError("that is not your current password", field="current_password")
    check_password(
        cmd.new_password, min_length=ctx.settings.password_min_length, username=row.username
    )
    if cmd.new_password == cmd.current_password:
        raise AccountRejectedError(
            "choose a password different from the current one", field="new_password"
        )
    password_hash = await hash_password(cmd.new_password)
    now = ctx.clock()
    async with ctx.engine.begin() as conn:
        await queries.update_account(
            conn,
            row.account_id,
            {
                "password_hash": password_hash,
                "must_change_password": False,
                "password_changed_at": now,
                "updated_at": now,
            },
            None,
        )
        await queries.audit(
            conn, row.account_id, at=now, by=row.username, action="password_changed"
        )
        fresh = await queries.account_by_id(conn, row.account_id)
    return queries.account_from_row(fresh)


async def disable_account(cmd: DisableAccount, ctx: Context) -> Account:
    """No more sign-ins: every session of the account ends now; its history is kept."""
    reason = cmd.reason.strip()
    if not reason:
        raise AccountRejectedError("say why the account is disabled", field="reason")
    now = ctx.clock()
    async with ctx.engine.begin() as conn:
        row = await _existing(conn, cmd.username)
        if row.username == cmd.by:
            raise AccountRejectedError("you cannot disable your own account", field="username")
        await queries.update_account(
            conn,
            row.account_id,
            {"disabled_at": now, "disabled_reason": reason, "updated_at": now},
            None,
        )
        ended = await queries.delete_sessions_of(conn, row.account_id)
        await queries.audit(
            conn,
            row.account_id,
            at=now,
            by=cmd.by,
            action="disabled",
            detail={"reason": reason, "sessions_ended": ended},
        )
        fresh = await queries.account_by_id(conn, row.account_id)
    return queries.account_from_row(fresh)


async def enable_account(cmd: EnableAccount, ctx: Context) -> Account:
    """Allow a disabled account to sign in again."""
    now = ctx.clock()
    async with ctx.engine.begin() as conn:
        row = await _existing(conn, cmd.username)
        await queries.update_account(
            conn,
            row.account_id,
            {"disabled_at": None, "disabled_reason": None, "updated_at": now},
            None,
        )
        await queries.audit(conn, row.account_id, at=now, by=cmd.by, action="enabled")
        fresh = await queries.account_by_id(conn, row.account_id)
    return queries.account_from_row(fresh)


@dataclass(frozen=True)
class SignInRefusedError(Exception):
    """Why a sign-in failed, in words for the person."""

    message: str


async def check_password_sign_in(username: str, password: str, ctx: Context) -> Account:
    """The account if ``password`` is right and it may sign in; SignInRefusedError otherwise.

    A wrong password counts towards the lockout; after ``lockout_failures`` in a row the
    account is locked for ``lockout_minutes`` (an admin's password reset also unlocks it).
    """
    name = username.strip().lower()
    now = ctx.clock()
    async with ctx.engine.connect() as conn:
        row = await queries.account_by_username(conn, name) if name else None
    if row is not None and row.locked_until is not None and row.locked_until > now:
        raise SignInRefusedError(
            "Too many wrong passwords: this account is locked until "
            f"{row.locked_until.astimezone(UTC):%H:%M} UTC. An admin can unlock it by "
            "resetting the password."
        )
    right = await verify_password(row.password_hash if row is not None else None, password)
    if row is None:
        raise SignInRefusedError(WRONG_CREDENTIALS)
    if not right:
        async with ctx.engine.begin() as conn:
            so_far = await queries.failures_for_update(conn, row.account_id)
            failures, locked_until = after_wrong_password(so_far, now, ctx.lockout)
            await queries.record_failure(conn, row.account_id, failures, locked_until)
            if locked_until is not None:
                await queries.audit(
                    conn,
                    row.account_id,
                    at=now,
                    by="sign-in",
                    action="locked",
                    detail={"failures": failures},
                )
        raise SignInRefusedError(WRONG_CREDENTIALS)
    if row.disabled_at is not None:
        raise SignInRefusedError("This account is disabled. Ask an office admin.")
    new_hash = await hash_password(password) if needs_rehash(row.password_hash) else None
    async with ctx.engine.begin() as conn:
        await queries.record_sign_in(conn, row.account_id, now, new_hash)
        fresh = await queries.account_by_id(conn, row.account_id)
    return queries.account_from_row(fresh)
