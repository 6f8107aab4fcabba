"""RS256 bearer tokens against a published key set: roles, expiry, tampering, rotation."""

import asyncio
import json

import jwt
import pytest

from jobstream.auth import InvalidTokenError, KeysUnavailableError, Role, TokenVerifier, mint_token
from jobstream.auth.keys import KeyFile, KeySetError, SigningKeys, write_private, write_public
from jobstream.settings import AuthSettings


@pytest.fixture
def keys(tmp_path):
    """A private set and its JWKS as files, with settings and a way to rewrite both.

    The settings mint with the private set and verify with the JWKS.
    """
    private, public = tmp_path / "signing-keys.json", tmp_path / "jwks.json"

    def save(signing: SigningKeys) -> None:
        write_private(private, signing)
        write_public(public, signing)

    save(SigningKeys.generate())
    settings = AuthSettings(
        JOBSTREAM_SIGNING_KEYS=str(private),
        JOBSTREAM_JWKS_URL=public.as_uri(),
        JOBSTREAM_JWKS_REFRESH_MIN_S=0,
    )
    return settings, private, save


def verify(settings, token):
    return asyncio.run(TokenVerifier(settings).verify(token))


def test_a_minted_token_verifies_with_its_role_and_scope(keys):
    settings, _, _ = keys
    token = mint_token(settings, subject="t1", role=Role.TECHNICIAN, technician_id="tech-1")
    principal = verify(settings, token)
    assert principal.role is Role.TECHNICIAN
    assert principal.technician_id == "tech-1"


def test_the_token_names_its_key_and_is_rs256(keys):
    settings, private, _ = keys
    header = jwt.get_unverified_header(mint_token(settings, subject="a", role=Role.ADMIN))
    assert header["alg"] == "RS256"
    assert header["kid"] == SigningKeys.load(private).active


def test_an_expired_token_is_refused(keys):
    settings, _, _ = keys
    token = mint_token(settings, subject="a", role=Role.ADMIN, ttl_s=10, now=1_000_000)
    with pytest.raises(InvalidTokenError, match="expired"):
        verify(settings, token)


def test_a_token_signed_with_a_key_not_published_is_refused(keys, tmp_path):
    settings, _, _ = keys
    stranger = tmp_path / "other.json"
    write_private(stranger, SigningKeys.generate())
    token = mint_token(
        settings.model_copy(update={"signing_keys": str(stranger)}), subject="a", role=Role.ADMIN
    )
    with pytest.raises(InvalidTokenError, match="unknown key"):
        verify(settings, token)


def test_a_token_whose_kid_is_published_but_signature_is_another_keys_is_refused(keys, tmp_path):
    settings, private, _ = keys
    published = SigningKeys.load(private)
    forged_set = SigningKeys.generate()
    forged_key = forged_set.active_key() | {"kid": published.active}
    forged = tmp_path / "forged.json"
    write_private(forged, SigningKeys((forged_key,), published.active))
    token = mint_token(
        settings.model_copy(update={"signing_keys": str(forged)}), subject="a", role=Role.ADMIN
    )
    with pytest.raises(InvalidTokenError, match="Signature verification failed"):
        verify(settings, token)


def test_an_hs256_token_is_refused_even_with_the_public_key_as_secret(keys):
    settings, private, _ = keys
    jwk = SigningKeys.load(private).jwks()["keys"][0]
    token = jwt.encode(
        {
            "sub": "a",
            "role": "admin",
            "iss": "jobstream",
            "aud": "jobstream",
            "iat": 1,
            "exp": 2**40,
        },
        jwk["n"],  # the classic confusion: the public key's bytes as an HMAC secret
        algorithm="HS256",
        headers={"kid": jwk["kid"]},
    )
    with pytest.raises(InvalidTokenError, match="algorithm must be RS256"):
        verify(settings, token)


def test_a_technician_token_without_technician_id_is_refused(keys):
    settings, _, _ = keys
    token = mint_token(settings, subject="a", role=Role.TECHNICIAN)
    with pytest.raises(InvalidTokenError, match="technician_id"):
        verify(settings, token)


def test_a_rotated_key_verifies_without_a_restart_and_the_old_one_until_retired(keys):
    settings, private, save = keys
    verifier = TokenVerifier(settings)
    old = mint_token(settings, subject="a", role=Role.ADMIN)
    assert asyncio.run(verifier.verify(old)).subject == "a"

    added, new_kid = SigningKeys.load(private).add()
    save(added.activate(new_kid))
    new = mint_token(settings, subject="b", role=Role.ADMIN)
    assert jwt.get_unverified_header(new)["kid"] == new_kid
    # The verifier has never seen new_kid: it fetches the keys again, once, and accepts.
    assert asyncio.run(verifier.verify(new)).subject == "b"
    assert asyncio.run(verifier.verify(old)).subject == "a"

    save(SigningKeys.load(private).retire(SigningKeys.load(private).keys[0]["kid"]))
    fresh = TokenVerifier(settings)
    with pytest.raises(InvalidTokenError, match="unknown key"):
        asyncio.run(fresh.verify(old))


def test_unknown_kids_do_not_refetch_more_often_than_the_minimum(keys, tmp_path):
    settings, _, _ = keys
    settings = settings.model_copy(update={"jwks_refresh_min_s": 60})
    now = [1000.0]
    verifier = TokenVerifier(settings, clock=lambda: now[0])
    fetches = []
    original = verifier._refresh

    async def counted():
        fetches.append(now[0])
        await original()

    verifier._refresh = counted
    stranger = tmp_path / "other.json"
    write_private(stranger, SigningKeys.generate())
    other = settings.model_copy(update={"signing_keys": str(stranger)})
    for _ in range(5):
        token = mint_token(other, subject="x", role=Role.ADMIN, now=now[0])
        with pytest.raises(InvalidTokenError):
            asyncio.run(verifier.verify(token))
    assert len(fetches) == 1


def test_without_a_jwks_url_nothing_verifies_and_says_why(keys):
    settings, _, _ = keys
    token = mint_token(settings, subject="a", role=Role.ADMIN)
    with pytest.raises(KeysUnavailableError, match="JOBSTREAM_JWKS_URL is not set"):
        verify(settings.model_copy(update={"jwks_url": ""}), token)


def test_minting_without_a_key_set_says_what_to_set():
    with pytest.raises(KeySetError, match="JOBSTREAM_SIGNING_KEYS"):
        mint_token(AuthSettings(JOBSTREAM_SIGNING_KEYS=""), subject="a", role=Role.ADMIN)


def test_a_key_set_file_is_private_and_the_jwks_holds_no_private_member(keys):
    _, private, _ = keys
    assert private.stat().st_mode & 0o077 == 0
    published = json.loads((private.parent / "jwks.json").read_text())
    assert published["keys"] and all("d" not in k and "p" not in k for k in published["keys"])


def test_the_active_key_cannot_be_retired_and_unknown_kids_are_named():
    signing = SigningKeys.generate()
    with pytest.raises(KeySetError, match="active key"):
        signing.retire(signing.active)
    with pytest.raises(KeySetError, match="no key nope"):
        signing.activate("nope")


def test_a_malformed_key_file_is_named(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(
        '{"keys": [{"kty": "RSA", "kid": "k1", "n": "x", "e": "AQAB"}], "active": "k1"}'
    )
    with pytest.raises(KeySetError, match="no private part"):
        KeyFile(path).current()
