"""JWT bearer tokens: roles, expiry, tampering."""

import pytest
from pydantic import SecretStr

from jobstream.auth import InvalidToken, Role, mint_token, verify_token
from jobstream.settings import AuthSettings

SETTINGS = AuthSettings(JOBSTREAM_JWT_SECRET=SecretStr("s" * 40))


def test_a_minted_token_verifies_with_its_role_and_scope():
    token = mint_token(SETTINGS, subject="t1", role=Role.TECHNICIAN, technician_id="tech-1")
    principal = verify_token(SETTINGS, token)
    assert principal.role is Role.TECHNICIAN
    assert principal.technician_id == "tech-1"


def test_an_expired_token_is_refused():
    token = mint_token(SETTINGS, subject="a", role=Role.ADMIN, ttl_s=10, now=1_000_000)
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(SETTINGS, token)


def test_a_token_signed_with_another_secret_is_refused():
    other = AuthSettings(JOBSTREAM_JWT_SECRET=SecretStr("x" * 40))
    token = mint_token(other, subject="a", role=Role.ADMIN)
    with pytest.raises(InvalidToken, match="invalid token"):
        verify_token(SETTINGS, token)


def test_a_technician_token_without_technician_id_is_refused():
    token = mint_token(SETTINGS, subject="a", role=Role.TECHNICIAN)
    with pytest.raises(InvalidToken, match="technician_id"):
        verify_token(SETTINGS, token)


def test_a_short_secret_is_refused_at_use():
    weak = AuthSettings(JOBSTREAM_JWT_SECRET=SecretStr("short"))
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        mint_token(weak, subject="a", role=Role.ADMIN)
