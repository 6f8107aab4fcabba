"""Bearer tokens: RS256 JWTs carrying a role, minted with a private key set.

They are verified against the issuer's published keys (JWKS), never a shared secret
(ADR 0071).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import OrderedDict
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import jwt
import structlog
from pydantic import BaseModel, ConfigDict

from jobstream.auth.keys import ALGORITHM, KeyFile, KeySetError
from jobstream.settings import AuthSettings

log = structlog.get_logger(__name__)


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


class InvalidTokenError(Exception):
    """The token is missing, malformed, expired or signed with a key we do not trust."""


class KeysUnavailableError(Exception):
    """The published keys cannot be fetched and none are cached: nobody can be verified."""


_key_files: dict[str, KeyFile] = {}


def _key_file(settings: AuthSettings) -> KeyFile:
    if not settings.signing_keys:
        raise KeySetError(
            "JOBSTREAM_SIGNING_KEYS is not set: minting a token needs the private key set "
            "(jobstream keys generate --out FILE)"
        )
    path = str(Path(settings.signing_keys).expanduser())
    if path not in _key_files:
        _key_files[path] = KeyFile(path)
    return _key_files[path]


def mint_token(
    settings: AuthSettings,
    *,
    subject: str,
    role: Role,
    technician_id: str | None = None,
    customer_id: str | None = None,
    ttl_s: int = 3600,
    now: float | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """Sign a token for ``subject`` with ``role`` with the set's active key."""
    keys = _key_file(settings).current()
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        **(extra_claims or {}),
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
    active = keys.active_key()
    signing_key = jwt.PyJWK(active, algorithm=ALGORITHM)
    return jwt.encode(claims, signing_key, algorithm=ALGORITHM, headers={"kid": active["kid"]})


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """The caller a verified token names; InvalidTokenError if its role or scope is off."""
    try:
        role = Role(str(claims.get("role")))
    except ValueError as exc:
        raise InvalidTokenError("invalid token: unknown role") from exc
    if role is Role.TECHNICIAN and not claims.get("technician_id"):
        raise InvalidTokenError("invalid token: technician token without technician_id")
    if role is Role.CUSTOMER and not claims.get("customer_id"):
        raise InvalidTokenError("invalid token: customer token without customer_id")
    return Principal(
        subject=claims["sub"],
        role=role,
        technician_id=claims.get("technician_id"),
        customer_id=claims.get("customer_id"),
    )


async def _fetch_jwks(url: str) -> dict[str, Any]:
    """The key set published at ``url`` (http, https or file)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        text = await asyncio.to_thread(Path(unquote(parts.path)).read_text)
        data: dict[str, Any] = json.loads(text)
        return data
    if parts.scheme not in {"http", "https"}:
        raise KeysUnavailableError(f"JOBSTREAM_JWKS_URL must be http(s):// or file://, not {url!r}")
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(url)
        response.raise_for_status()
        fetched: dict[str, Any] = response.json()
        return fetched


class TokenVerifier:
    """Verifies tokens against the published keys, cached.

    Keys are fetched again when the cache is older than ``jwks_cache_s``, or at once when a
    token names a ``kid`` not seen yet (a rotated key) — at most once per
    ``jwks_refresh_min_s``. When a fetch fails the keys already held keep working. Tokens
    already verified are remembered until they expire, so a busy client costs one signature
    check, not one per request.
    """

    MEMO_SIZE = 4096

    def __init__(self, settings: AuthSettings, clock: Any = time.time) -> None:
        """Verify with ``settings``; ``clock`` (epoch seconds) ages the key cache and memo."""
        self.settings = settings
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self._memo: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        """The token's principal; InvalidTokenError naming the fault, or KeysUnavailableError."""
        now = self._clock()
        remembered = self._memo.get(token)
        if remembered is not None and remembered[1] > now:
            self._memo.move_to_end(token)
            return remembered[0]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"invalid token: {exc}") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidTokenError(f"invalid token: algorithm must be {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidTokenError("invalid token: no kid in its header")
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidTokenError("token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"invalid token: {exc}") from exc
        principal = principal_from_claims(claims)
        self._memo[token] = (principal, float(claims["exp"]))
        if len(self._memo) > self.MEMO_SIZE:
            self._memo.popitem(last=False)
        return principal

    async def _key(self, kid: str) -> jwt.PyJWK:
        now = self._clock()
        stale = now - self._fetched_at > self.settings.jwks_cache_s
        if kid not in self._keys or stale:
            async with self._lock:
                since = self._clock() - self._fetched_at
                if (kid not in self._keys and since >= self.settings.jwks_refresh_min_s) or (
                    since > self.settings.jwks_cache_s
                ):
                    await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise InvalidTokenError(f"invalid token: signed with an unknown key ({kid})")
        return key

    async def _refresh(self) -> None:
        url = self.settings.jwks_url
        if not url:
            raise KeysUnavailableError(
                "JOBSTREAM_JWKS_URL is not set: this service cannot verify any token"
            )
        try:
            data = await _fetch_jwks(url)
            keys = {
                jwk["kid"]: jwt.PyJWK(jwk, algorithm=ALGORITHM)
                for jwk in data.get("keys", [])
                if isinstance(jwk, dict) and jwk.get("kid") and jwk.get("kty") == "RSA"
            }
        except KeysUnavailableError:
            raise
        except (OSError, ValueError, httpx.HTTPError, jwt.PyJWTError) as exc:
            # Keep what we had: a brief outage of the issuer must not sign everybody out.
            self._fetched_at = self._clock()
            log.warning("jwks_fetch_failed", url=url, error=str(exc), cached_keys=len(self._keys))
            if not self._keys:
                raise KeysUnavailableError(
                    f"cannot fetch the signing keys from {url}: {exc}"
                ) from exc
            return
        self._keys = keys
        self._fetched_at = self._clock()
        log.info("jwks_fetched", url=url, kids=sorted(keys))
