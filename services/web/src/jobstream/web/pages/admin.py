"""Accounts, for office admins, each change in the account's audit trail.

Create, change role or binding, reset a password (which unlocks), disable without
deleting, enable again.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from jobstream.api.errors import status_of
from jobstream.auth import Role
from jobstream.errors import RefusedError
from jobstream.web import handlers
from jobstream.web.access import ADMINS, page_for
from jobstream.web.db import queries
from jobstream.web.domain.accounts import ROLE_LABELS, Account
from jobstream.web.domain.commands import (
    CreateAccount,
    DisableAccount,
    EnableAccount,
    ResetPassword,
    UpdateAccount,
)
from jobstream.web.rendering import render
from jobstream.web.sessions import SignedIn

router = APIRouter(prefix="/admin", include_in_schema=False)
Admin = Annotated[SignedIn, Depends(page_for(*ADMINS))]
ROLE_OPTIONS = [(r.value, ROLE_LABELS[r]) for r in Role]


def _ctx(request: Request) -> handlers.Context:
    ctx: handlers.Context = request.app.state.handler_context
    return ctx


@dataclass(frozen=True)
class AccountForm:
    """The fields of the account form that creating and changing an account share."""

    display_name: Annotated[str, Form(max_length=200)] = ""
    role: Annotated[str, Form(max_length=40)] = ""
    technician_id: Annotated[str, Form(max_length=200)] = ""
    customer_id: Annotated[str, Form(max_length=200)] = ""
    email: Annotated[str, Form(max_length=320)] = ""


def _form_errors(exc: RefusedError, prefix: str = "") -> dict[str, str]:
    """A refusal as the form shows it: at the field it names (``prefix``ed), else on top."""
    return {prefix + exc.field if exc.field else "_": exc.message}


async def _accounts_page(
    request: Request,
    signed: SignedIn,
    *,
    errors: dict[str, str],
    form: dict[str, str],
    status_code: int = 200,
    notice: str = "",
) -> Response:
    async with request.app.state.runtime.engine.connect() as conn:
        accounts = await queries.list_accounts(conn)
    return render(
        request,
        "admin_accounts.html",
        signed,
        status_code=status_code,
        accounts=accounts,
        errors=errors,
        form=form,
        roles=ROLE_OPTIONS,
        notice=notice,
    )


@router.get("/accounts")
async def accounts(request: Request, signed: Admin, notice: str = "") -> Response:
    """Every account, and the form for a new one."""
    return await _accounts_page(request, signed, errors={}, form={}, notice=notice)


@router.post("/accounts")
async def create(
    request: Request,
    signed: Admin,
    fields: Annotated[AccountForm, Depends()],
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A new account, or the form again with the problem at its field."""
    form = {"username": username, **asdict(fields)}
    if fields.role not in Role._value2member_map_:
        return await _accounts_page(
            request, signed, errors={"role": "choose a role"}, form=form, status_code=422
        )
    try:
        account = await handlers.create_account(
            CreateAccount(
                username=username,
                display_name=fields.display_name,
                role=Role(fields.role),
                password=password,
                by=signed.account.username,
                technician_id=fields.technician_id,
                customer_id=fields.customer_id,
                email=fields.email,
            ),
            _ctx(request),
        )
    except RefusedError as exc:
        return await _accounts_page(
            request, signed, errors=_form_errors(exc), form=form, status_code=status_of(exc)
        )
    return RedirectResponse(f"/admin/accounts?notice=created+{account.username}", 303)


async def _account_page(
    request: Request,
    signed: SignedIn,
    username: str,
    *,
    errors: dict[str, str],
    status_code: int = 200,
    notice: str = "",
) -> Response:
    async with request.app.state.runtime.engine.connect() as conn:
        row = await queries.account_by_username(conn, username)
        if row is None:
            return render(
                request,
                "error.html",
                signed,
                status_code=404,
                title="No such account",
                message=f"There is no account {username}.",
                home="/admin/accounts",
            )
        trail = await queries.audit_trail(conn, row.account_id)
    return render(
        request,
        "admin_account.html",
        signed,
        status_code=status_code,
        account=queries.account_from_row(row),
        trail=trail,
        errors=errors,
        roles=ROLE_OPTIONS,
        notice=notice,
    )


async def _account_command(
    request: Request,
    signed: SignedIn,
    username: str,
    command: Awaitable[Account],
    *,
    notice: str,
    prefix: str = "",
) -> Response:
    """Run a command on one account: back to it with ``notice``, or with the refusal shown.

    A refusal naming a field is shown at it (``prefix`` tells the page's forms apart).
    """
    try:
        await command
    except RefusedError as exc:
        errors = _form_errors(exc, prefix)
        return await _account_page(
            request, signed, username, errors=errors, status_code=status_of(exc)
        )
    return RedirectResponse(f"/admin/accounts/{username}?notice={notice}", 303)


@router.get("/accounts/{username}")
async def account(request: Request, signed: Admin, username: str, notice: str = "") -> Response:
    """One account: edit, reset, disable; what was done to it."""
    return await _account_page(request, signed, username, errors={}, notice=notice)


@router.post("/accounts/{username}")
async def update(
    request: Request,
    signed: Admin,
    username: str,
    fields: Annotated[AccountForm, Depends()],
    version: Annotated[int, Form()] = 0,
) -> Response:
    """Change name, role or binding at the version the admin saw."""
    if fields.role not in Role._value2member_map_:
        return await _account_page(
            request, signed, username, errors={"role": "choose a role"}, status_code=422
        )
    cmd = UpdateAccount(
        username=username,
        display_name=fields.display_name,
        role=Role(fields.role),
        expected_version=version,
        by=signed.account.username,
        technician_id=fields.technician_id,
        customer_id=fields.customer_id,
        email=fields.email,
    )
    return await _account_command(
        request, signed, username, handlers.update_account(cmd, _ctx(request)), notice="saved"
    )


@router.post("/accounts/{username}/password")
async def reset(
    request: Request,
    signed: Admin,
    username: str,
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A new password chosen by the admin; the user must change it at sign-in."""
    cmd = ResetPassword(username, password, signed.account.username)
    return await _account_command(
        request,
        signed,
        username,
        handlers.reset_password(cmd, _ctx(request)),
        notice="password-reset",
        prefix="reset_",
    )


@router.post("/accounts/{username}/disable")
async def disable(
    request: Request,
    signed: Admin,
    username: str,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """No more sign-ins; its sessions end at once."""
    cmd = DisableAccount(username, reason, signed.account.username)
    return await _account_command(
        request,
        signed,
        username,
        handlers.disable_account(cmd, _ctx(request)),
        notice="disabled",
        prefix="disable_",
    )


@router.post("/accounts/{username}/enable")
async def enable(request: Request, signed: Admin, username: str) -> Response:
    """Sign-ins allowed again."""
    cmd = EnableAccount(username, signed.account.username)
    return await _account_command(
        request, signed, username, handlers.enable_account(cmd, _ctx(request)), notice="enabled"
    )
