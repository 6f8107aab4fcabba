"""FastAPI dependencies: the authenticated caller, and role checks."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobstream.auth.tokens import (
    InvalidTokenError,
    KeysUnavailableError,
    Principal,
    Role,
    TokenVerifier,
)

_bearer = HTTPBearer(
    auto_error=False,
    description="RS256 JWT from the front door's sign-in or `jobstream token`",
)


def token_verifier(request: Request) -> TokenVerifier:
    """This app's verifier (``create_app`` puts one on ``app.state``)."""
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier


async def principal_for(request: Request, token: str) -> Principal:
    """The principal of ``token``, or the 401/503 a caller should get."""
    try:
        return await token_verifier(request).verify(token)
    except InvalidTokenError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=str(exc),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc
    except KeysUnavailableError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc), headers={"Retry-After": "5"}
        ) from exc


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the caller, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return await principal_for(request, credentials.credentials)


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency factory: the caller, if their role is one of ``roles``; else 403."""
    allowed = frozenset(roles) | {Role.ADMIN}

    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role {principal.role.value} may not do this; "
                f"allowed: {', '.join(sorted(r.value for r in allowed))}",
            )
        return principal

    return dependency
