"""Sign-in through an external OpenID Connect provider (ADR 0072).

Authorization code with PKCE (authlib's client), the ID token checked against the
provider's keys (joserfc), the role and binding taken from its claims.

A person who signs in this way gets an account row of source ``oidc`` (keyed by issuer and
subject), so an admin sees them, their sessions work like any other, and a disabled account
stays out whatever the provider says.
"""

from __future__ import annotations

import secrets
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from jobstream.auth import Role
from jobstream.web.config import WebSettings
from jobstream.web.db import queries
from jobstream.web.domain.accounts import Account, AccountRejectedError, check_binding

with warnings.catch_warnings():
    # authlib 1.9 prefers the httpx2 package and says so on import; httpx is what we ship.
    # (authlib.deprecate installs an "always" filter of its own when imported, so it is
    # imported first and overridden here, inside this block only.)
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

PENDING_FOR = timedelta(minutes=10)
DISCOVERY_CACHE_S = 3600.0


class OidcRefusedError(Exception):
    """The provider's answer cannot sign anyone in; the message says why, in words."""


def claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by dotted path (``realm_access.roles``)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def role_from_claims(claims: dict[str, Any], path: str) -> Role:
    """The first Jobstream role the claim names (a string or a list of strings)."""
    value = claim(claims, path)
    names = value if isinstance(value, list) else [value]
    for name in names:
        if isinstance(name, str) and name in Role._value2member_map_:
            return Role(name)
    raise OidcRefusedError(
        f"your sign-in carries no Jobstream role (claim {path}); ask an admin to give you one"
    )


@dataclass
class OidcClient:
    """The provider's endpoints (from discovery) and the PKCE dance."""

    settings: WebSettings
    _discovery: dict[str, Any] | None = None
    _discovered_at: float = 0.0
    _keys: KeySet | None = None

    async def discovery(self) -> dict[str, Any]:
        """The provider's metadata (cached for an hour)."""
        if self._discovery is None or time.time() - self._discovered_at > DISCOVERY_CACHE_S:
            url = self.settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(url)
                response.raise_for_status()
                self._discovery = response.json()
            self._discovered_at = time.time()
            self._keys = None
        assert self._discovery is not None
        return self._discovery

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            meta = await self.discovery()
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(meta["jwks_uri"])
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
        return self._keys

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=self.settings.oidc_client_secret.get_secret_value() or None,
            scope=self.settings.oidc_scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )

    async def start(self, conn: Any, redirect_uri: str, next_path: str) -> str:
        """Remember a new sign-in (state, PKCE verifier, nonce); the provider URL to go to."""
        meta = await self.discovery()
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(24)
        async with self._client(redirect_uri) as client:
            url, state = client.create_authorization_url(
                meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
            )
        await queries.insert_oidc_pending(
            conn,
            {
                "state": state,
                "code_verifier": verifier,
                "nonce": nonce,
                "next": next_path,
                "created_at": datetime.now(UTC),
            },
        )
        return str(url)

    async def finish(
        self, conn: Any, *, state: str, code: str, redirect_uri: str
    ) -> tuple[dict[str, Any], str, str]:
        """Exchange the code (with the PKCE verifier) and check the ID token.

        Returns (claims, id_token, where the person was going).
        """
        pending = await queries.take_oidc_pending(conn, state, datetime.now(UTC) - PENDING_FOR)
        if pending is None:
            raise OidcRefusedError("this sign-in link has expired or was already used; start again")
        meta = await self.discovery()
        async with self._client(redirect_uri) as client:
            try:
                token = await client.fetch_token(
                    meta["token_endpoint"],
                    code=code,
                    code_verifier=pending.code_verifier,
                    grant_type="authorization_code",
                )
            except Exception as exc:
                raise OidcRefusedError(f"the provider refused the sign-in: {exc}") from exc
        id_token = token.get("id_token")
        if not id_token:
            raise OidcRefusedError("the provider sent no ID token")
        claims = await self._verify(id_token, nonce=pending.nonce)
        return claims, id_token, pending.next

    async def _verify(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        meta = await self.discovery()
        try:
            try:
                decoded = jwt.decode(id_token, await self._key_set(), algorithms=["RS256", "ES256"])
            except JoseError:
                # The provider may have rotated its keys since we fetched them.
                decoded = jwt.decode(
                    id_token, await self._key_set(refresh=True), algorithms=["RS256", "ES256"]
                )
            registry = jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": meta["issuer"]},
                aud={"essential": True, "value": self.settings.oidc_client_id},
                exp={"essential": True},
                sub={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(decoded.claims)
        except JoseError as exc:
            raise OidcRefusedError(f"the ID token does not check out: {exc}") from exc
        claims: dict[str, Any] = decoded.claims
        return claims

    async def end_session_url(self, id_token_hint: str | None, request: Any) -> str | None:
        """Where to send the browser to sign out at the provider too (RP-initiated logout)."""
        try:
            meta = await self.discovery()
        except httpx.HTTPError:
            return None
        endpoint = meta.get("end_session_endpoint")
        if not endpoint:
            return None
        base = self.settings.public_url or str(request.base_url).rstrip("/")
        params = {
            "post_logout_redirect_uri": f"{base}/sign-in",
            "client_id": self.settings.oidc_client_id,
        }
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        return f"{endpoint}?{urlencode(params)}"


async def account_for_claims(
    conn: Any, claims: dict[str, Any], settings: WebSettings, now: datetime
) -> Account:
    """The account the provider's person signs in as; a disabled one refused.

    The account is made on first sign-in, its role and binding refreshed from the claims
    every time.
    """
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    role = role_from_claims(claims, settings.oidc_role_claim)
    try:
        technician_id, customer_id = check_binding(
            role,
            claim(claims, settings.oidc_technician_claim),
            claim(claims, settings.oidc_customer_claim),
        )
    except AccountRejectedError as exc:
        raise OidcRefusedError(
            f"your sign-in's claims do not fit your role: {exc.message}"
        ) from exc
    name = str(claims.get("name") or claims.get("preferred_username") or subject)
    username = str(claims.get("preferred_username") or subject).strip().lower()
    row = await queries.account_by_oidc(conn, issuer, subject)
    values = {
        "display_name": name,
        "role": role.value,
        "technician_id": technician_id,
        "customer_id": customer_id,
        "email": claims.get("email"),
        "last_sign_in_at": now,
        "updated_at": now,
    }
    if row is None:
        if await queries.account_by_username(conn, username) is not None:
            raise OidcRefusedError(
                f"the username {username} belongs to a local account; an admin must rename one"
            )
        account_id = queries.new_account_id()
        await queries.insert_account(
            conn,
            {
                **values,
                "account_id": account_id,
                "username": username,
                "source": "oidc",
                "oidc_issuer": issuer,
                "oidc_subject": subject,
                "created_at": now,
            },
        )
        await queries.audit(
            conn, account_id, at=now, by="oidc", action="created", detail={"role": role.value}
        )
    else:
        if row.disabled_at is not None:
            raise OidcRefusedError("this account is disabled here; ask an office admin")
        account_id = row.account_id
        await queries.update_account(conn, account_id, values, None)
    fresh = await queries.account_by_id(conn, account_id)
    return queries.account_from_row(fresh)
