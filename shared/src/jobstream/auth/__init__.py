"""Who is calling: RS256 bearer tokens, roles, and the FastAPI dependencies for routes.

Tokens are verified against published keys; every service's routes use the dependencies
(ADR 0006, ADR 0071).
"""

from jobstream.auth.dependencies import authenticate, principal_for, require_roles
from jobstream.auth.keys import KeySetError, SigningKeys
from jobstream.auth.tokens import (
    InvalidTokenError,
    KeysUnavailableError,
    Principal,
    Role,
    TokenVerifier,
    mint_token,
    principal_from_claims,
)

__all__ = [
    "InvalidTokenError",
    "KeySetError",
    "KeysUnavailableError",
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
