"""Accounts as the business sees them, with the password rules and the lockout policy.

Who may sign in, with which role, bound to which technician or customer. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobstream.auth import Role
from jobstream.errors import ConflictError, InvalidInputError, NotFoundError

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
MAX_PASSWORD_LENGTH = 256

# What each role is called on the pages.
ROLE_LABELS = {
    Role.ADMIN: "Office admin",
    Role.DISPATCHER: "Dispatcher",
    Role.TECHNICIAN: "Technician",
    Role.CUSTOMER: "Customer contact",
    Role.ANALYST: "Analyst",
}


class AccountRejectedError(InvalidInputError):
    """A command the rules refuse; ``field`` names the input at fault (None: the whole)."""


class AccountNotFoundError(NotFoundError):
    """No such account."""


class AccountConflictError(ConflictError):
    """Someone changed the account meanwhile (or the name is taken)."""


@dataclass(frozen=True)
class LockoutPolicy:
    """How many wrong passwords in a row lock an account, and for how long."""

    failures: int
    duration: timedelta


@dataclass(frozen=True)
class Account:
    """One account as stored."""

    account_id: str
    username: str
    display_name: str
    role: Role
    technician_id: str | None
    customer_id: str | None
    email: str | None
    source: str
    must_change_password: bool
    failed_sign_ins: int
    locked_until: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    version: int
    last_sign_in_at: datetime | None = None
    has_password: bool = True

    def locked(self, now: datetime) -> bool:
        """Whether wrong passwords have locked it at ``now``."""
        return self.locked_until is not None and self.locked_until > now

    @property
    def disabled(self) -> bool:
        """Disabled accounts keep their history but cannot sign in."""
        return self.disabled_at is not None


def normalise_username(username: str) -> str:
    """Usernames compare without case or surrounding blanks."""
    return username.strip().lower()


def check_username(username: str) -> str:
    """The normalised username, or refused naming the rule it breaks."""
    name = normalise_username(username)
    if not USERNAME.fullmatch(name):
        raise AccountRejectedError(
            "3–64 characters: letters, digits and . _ @ - (starting with a letter or digit)",
            field="username",
        )
    return name


def check_binding(
    role: Role, technician_id: str | None, customer_id: str | None
) -> tuple[str | None, str | None]:
    """The (technician_id, customer_id) a role needs, or refused naming what is missing."""
    technician_id = (technician_id or "").strip() or None
    customer_id = (customer_id or "").strip() or None
    if role is Role.TECHNICIAN:
        if not technician_id:
            raise AccountRejectedError(
                "a technician account must name its technician", field="technician_id"
            )
        if customer_id:
            raise AccountRejectedError(
                "only customer contacts are bound to a customer", field="customer_id"
            )
    elif role is Role.CUSTOMER:
        if not customer_id:
            raise AccountRejectedError(
                "a customer contact must name their customer", field="customer_id"
            )
        if technician_id:
            raise AccountRejectedError(
                "only technician accounts are bound to a technician", field="technician_id"
            )
    elif technician_id or customer_id:
        field = "technician_id" if technician_id else "customer_id"
        raise AccountRejectedError(
            f"a {ROLE_LABELS[role].lower()} is not bound to one {field[:-3]}", field=field
        )
    return technician_id, customer_id


def check_password(password: str, *, min_length: int, username: str) -> None:
    """Refuse a new password naming what is wrong with it (length; not the username)."""
    if len(password) < min_length:
        raise AccountRejectedError(f"at least {min_length} characters", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountRejectedError(f"at most {MAX_PASSWORD_LENGTH} characters", field="password")
    if password.strip().lower() == normalise_username(username):
        raise AccountRejectedError("must not be the username", field="password")


def after_wrong_password(
    failures: int, now: datetime, policy: LockoutPolicy
) -> tuple[int, datetime | None]:
    """The failure count and lock after one more wrong password."""
    failures += 1
    if failures >= policy.failures:
        return failures, now + policy.duration
    return failures, None
