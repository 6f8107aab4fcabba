"""What an admin or a user asks of the accounts (never published)."""

from __future__ import annotations

from dataclasses import dataclass

from jobstream.auth import Role


@dataclass(frozen=True)
class CreateAccount:
    """A new account with a first password (the user changes it at first sign-in)."""

    username: str
    display_name: str
    role: Role
    password: str
    by: str
    technician_id: str | None = None
    customer_id: str | None = None
    email: str | None = None
    must_change_password: bool = True


@dataclass(frozen=True)
class UpdateAccount:
    """Change an account's name, role or binding, at the version the admin saw."""

    username: str
    display_name: str
    role: Role
    expected_version: int
    by: str
    technician_id: str | None = None
    customer_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ResetPassword:
    """An admin sets a new password (which also unlocks); the user must change it."""

    username: str
    password: str
    by: str


@dataclass(frozen=True)
class ChangeOwnPassword:
    """A signed-in user replaces their password, proving the current one."""

    account_id: str
    current_password: str
    new_password: str


@dataclass(frozen=True)
class DisableAccount:
    """No more sign-ins; every session ends; history stays."""

    username: str
    reason: str
    by: str


@dataclass(frozen=True)
class EnableAccount:
    """Allow sign-in again."""

    username: str
    by: str
