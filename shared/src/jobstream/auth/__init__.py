"""Who is calling: RS256 bearer tokens verified against published keys, roles, and the
FastAPI dependencies every service's routes use (ADR 0006, ADR 0071)."""

from jobstream.auth.dependencies import authenticate, principal_for, require_roles
from jobstream.auth.keys import KeySetError, SigningKeys
from jobstream.auth.tokens import (
    InvalidToken,
    KeysUnavailable,
    Principal,
    Role,
    TokenVerifier,
    mint_token,
    principal_from_claims,
)

__all__ = [
    "InvalidToken",
    "KeySetError",
    "KeysUnavailable",
    "Principal",
    "Role",
    "SigningKeys",
    "TokenVerifier",
    "authenticate",
    "mint_token",
    "principal_for",
    "principal_from_claims",
    "require_roles",
]
