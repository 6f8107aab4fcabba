"""Accounts, for office admins: create, change role or binding, reset a password (which
unlocks), disable without deleting, enable again; each change in the account's audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from jobstream.auth import Role
from jobstream.web import handlers
from jobstream.web.access import ADMINS, page_for
from jobstream.web.db import queries
from jobstream.web.domain.accounts import ROLE_LABELS, Conflict, NotFound, Rejected
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
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    technician_id: Annotated[str, Form(max_length=200)] = "",
    customer_id: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A new account, or the form again with the problem at its field."""
    form = {
        "username": username,
        "display_name": display_name,
        "role": role,
        "technician_id": technician_id,
        "customer_id": customer_id,
        "email": email,
    }
    if role not in Role._value2member_map_:
        return await _accounts_page(
            request, signed, errors={"role": "choose a role"}, form=form, status_code=422
        )
    try:
        account = await handlers.create_account(
            CreateAccount(
                username=username,
                display_name=display_name,
                role=Role(role),
                password=password,
                by=signed.account.username,
                technician_id=technician_id,
                customer_id=customer_id,
                email=email,
            ),
            _ctx(request),
        )
    except Rejected as exc:
        return await _accounts_page(
            request, signed, errors={exc.field or "_": exc.message}, form=form, status_code=422
        )
    except Conflict as exc:
        return await _accounts_page(
            request, signed, errors={"username": str(exc)}, form=form, status_code=409
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


@router.get("/accounts/{username}")
async def account(request: Request, signed: Admin, username: str, notice: str = "") -> Response:
    """One account: edit, reset, disable; what was done to it."""
    return await _account_page(request, signed, username, errors={}, notice=notice)


@router.post("/accounts/{username}")
async def update(
    request: Request,
    signed: Admin,
    username: str,
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    technician_id: Annotated[str, Form(max_length=200)] = "",
    customer_id: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    version: Annotated[int, Form()] = 0,
) -> Response:
    """Change name, role or binding at the version the admin saw."""
    if role not in Role._value2member_map_:
        return await _account_page(
            request, signed, username, errors={"role": "choose a role"}, status_code=422
        )
    try:
        await handlers.update_account(
            UpdateAccount(
                username=username,
                display_name=display_name,
                role=Role(role),
                expected_version=version,
                by=signed.account.username,
                technician_id=technician_id,
                customer_id=customer_id,
                email=email,
            ),
            _ctx(request),
        )
    except Rejected as exc:
        return await _account_page(
            request, signed, username, errors={exc.field or "_": exc.message}, status_code=422
        )
    except Conflict as exc:
        return await _account_page(
            request, signed, username, errors={"_": str(exc)}, status_code=409
        )
    except NotFound as exc:
        return await _account_page(
            request, signed, username, errors={"_": str(exc)}, status_code=404
        )
    return RedirectResponse(f"/admin/accounts/{username}?notice=saved", 303)


@router.post("/accounts/{username}/password")
async def reset(
    request: Request,
    signed: Admin,
    username: str,
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A new password chosen by the admin; the user must change it at sign-in."""
    try:
        await handlers.reset_password(
            ResetPassword(username, password, signed.account.username), _ctx(request)
        )
    except Rejected as exc:
        return await _account_page(
            request,
            signed,
            username,
            errors={"reset_" + (exc.field or "_"): exc.message},
            status_code=422,
        )
    except NotFound as exc:
        return await _account_page(
            request, signed, username, errors={"_": str(exc)}, status_code=404
        )
    return RedirectResponse(f"/admin/accounts/{username}?notice=password-reset", 303)


@router.post("/accounts/{username}/disable")
async def disable(
    request: Request,
    signed: Admin,
    username: str,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """No more sign-ins; its sessions end at once."""
    try:
        await handlers.disable_account(
            DisableAccount(username, reason, signed.account.username), _ctx(request)
        )
    except Rejected as exc:
        return await _account_page(
            request,
            signed,
            username,
            errors={"disable_" + (exc.field or "_"): exc.message},
            status_code=422,
        )
    except NotFound as exc:
        return await _account_page(
            request, signed, username, errors={"_": str(exc)}, status_code=404
        )
    return RedirectResponse(f"/admin/accounts/{username}?notice=disabled", 303)


@router.post("/accounts/{username}/enable")
async def enable(request: Request, signed: Admin, username: str) -> Response:
    """Sign-ins allowed again."""
    try:
        await handlers.enable_account(
            EnableAccount(username, signed.account.username), _ctx(request)
        )
    except NotFound as exc:
        return await _account_page(
            request, signed, username, errors={"_": str(exc)}, status_code=404
        )
    return RedirectResponse(f"/admin/accounts/{username}?notice=enabled", 303)
