"""No token, signing secret or database password reaches the five services' logs.

Runs after the role rules and the fuzzer on the same stack (alphabetical order), so the logs
it reads hold thousands of requests with valid, forged, expired and garbage tokens in every
header schemathesis could think of; it adds a few requests whose tokens it knows.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from jobstream.auth import Role, SigningKeys, mint_token
from jobstream.demo import SERVICES
from jobstream.settings import AuthSettings

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

# Any JSON Web Token: a base64url JSON header ("eyJ" is '{"'), a payload and a signature.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")


async def test_no_token_or_secret_is_logged(live_stack: Any):
    office = mint_token(AuthSettings(), subject="logs-office", role=Role.DISPATCHER)
    forged = office[: office.rindex(".")] + ".forged-signature"
    expired = mint_token(AuthSettings(), subject="logs-old", role=Role.ADMIN, ttl_s=1, now=0)
    async with httpx.AsyncClient(timeout=30) as client:
        for service, url in live_stack.urls.items():
            for token in (office, forged, expired):
                await client.get(
                    f"{url}/openapi.json", headers={"Authorization": f"Bearer {token}"}
                )
                path = "/invoices" if service == "billing" else "/jobs/wo-logs"
                await client.get(f"{url}{path}", headers={"Authorization": f"Bearer {token}"})
            # A token where no token belongs: in the query string.
            await client.get(f"{url}/healthz", params={"access_token": office})
    logs = live_stack.log_text()
    assert set(logs) == set(SERVICES) and all(logs.values())
    private = SigningKeys.load(AuthSettings().signing_keys).active_key()
    for name, text in logs.items():
        for part in ("d", "p", "q"):
            assert private[part] not in text, f"the signing key's {part} is in {name}'s log"
        assert "PRIVATE KEY" not in text, f"a private key is in {name}'s log"
        assert not JWT.search(text), f"a bearer token is in {name}'s log: {JWT.search(text)}"
        assert "jobstream:jobstream@" not in text, f"a database password is in {name}'s log"
