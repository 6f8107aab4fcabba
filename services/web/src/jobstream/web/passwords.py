"""Password hashing with Argon2id (argon2-cffi, its RFC 9106 low-memory defaults).

Hashing and verifying take tens of milliseconds of CPU on purpose, so they run in a worker
thread: the event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the username is unknown, so that answering "wrong username or
# password" takes as long as for a real account (no timing oracle for valid usernames).
_DUMMY_HASH = _hasher.hash("not a password anyone has")


async def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; an unknown account (None) is checked against a dummy."""
    try:
        return await asyncio.to_thread(_hasher.verify, password_hash or _DUMMY_HASH, password) and (
            password_hash is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
