"""JWT bearer authentication with roles, as a FastAPI dependency."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from jobstream.settings import AuthSettings


class Role(StrEnum):
    """What a caller may do; carried in the token's ``role`` claim."""

    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    CUSTOMER = "customer"
    ANALYST = "analyst"
    ADMIN = "admin"


class Principal(BaseModel):
    """The authenticated caller.

    ``subject`` is a user id; ``technician_id`` and ``customer_id`` scope what a
    technician or a customer may touch.
    """

    model_config = ConfigDict(frozen=True)

    subject: str
    role: Role
    technician_id: str | None = None
    customer_id: str | None = None


ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32


def _secret(settings: AuthSettings) -> str:
    secret = settings.jwt_secret.get_secret_value()
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise RuntimeError(f"JOBSTREAM_JWT_SECRET must be set to at least {MIN_SECRET_BYTES} bytes")
    return secret


def mint_token(
    settings: AuthSettings,
    *,
    subject: str,
    role: Role,
    technician_id: str | None = None,
    customer_id: str | None = None,
    ttl_s: int = 3600,
    now: float | None = None,
) -> str:
    """Sign a token for ``subject`` with ``role`` (development and tests)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "exp": issued + ttl_s,
        "jti": str(uuid.uuid4()),
    }
    if technician_id:
        claims["technician_id"] = technician_id
    if customer_id:
        claims["customer_id"] = customer_id
    return jwt.encode(claims, _secret(settings), algorithm=ALGORITHM)


class InvalidToken(Exception):
    """The token is missing, malformed, expired or signed with another key."""


def verify_token(settings: AuthSettings, token: str) -> Principal:
    """Decode and check a token; raise InvalidToken naming what is wrong."""
    try:
        claims = jwt.decode(
            token,
            _secret(settings),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid token: {exc}") from exc
    try:
        role = Role(str(claims.get("role")))
    except ValueError as exc:
        raise InvalidToken("invalid token: unknown role") from exc
    if role is Role.TECHNICIAN and not claims.get("technician_id"):
        raise InvalidToken("invalid token: technician token without technician_id")
    if role is Role.CUSTOMER and not claims.get("customer_id"):
        raise InvalidToken("invalid token: customer token without customer_id")
    return Principal(
        subject=claims["sub"],
        role=role,
        technician_id=claims.get("technician_id"),
        customer_id=claims.get("customer_id"),
    )


_bearer = HTTPBearer(auto_error=False, description="JWT issued by `jobstream token`")


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
    settings: AuthSettings = request.app.state.auth_settings
    try:
        return verify_token(settings, credentials.credentials)
    except InvalidToken as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=str(exc),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc


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
