"""Accounts on real PostgreSQL, and key rotation through the front door's published JWKS.

For accounts: concurrent wrong passwords, and edits at the version seen.
"""

import asyncio

import pytest

from jobstream.auth import InvalidTokenError, Role, TokenVerifier, mint_token
from jobstream.auth.keys import SigningKeys, write_private
from jobstream.settings import AuthSettings
from jobstream.web import handlers
from jobstream.web.domain.accounts import AccountConflictError
from jobstream.web.domain.commands import CreateAccount, UpdateAccount

pytestmark = pytest.mark.integration


async def make(ctx, username="ann", role=Role.DISPATCHER, **kw):
    return await handlers.create_account(
        CreateAccount(
            username=username,
            display_name="Ann",
            role=role,
            password="a long enough password",
            by="test",
            **kw,
        ),
        ctx,
    )


async def test_parallel_wrong_passwords_are_each_counted_and_lock_the_account(ctx):
    await make(ctx)
    attempts = [handlers.check_password_sign_in("ann", "wrong guess", ctx) for _ in range(8)]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    assert all(isinstance(r, handlers.SignInRefusedError) for r in results)
    with pytest.raises(handlers.SignInRefusedError, match="locked until"):
        await handlers.check_password_sign_in("ann", "a long enough password", ctx)


async def test_a_username_is_taken_once(ctx):
    await make(ctx)
    with pytest.raises(AccountConflictError, match="taken"):
        await make(ctx, username="ANN ")


async def test_an_edit_made_on_an_old_version_is_a_conflict(ctx):
    created = await make(ctx)
    first = UpdateAccount(
        username="ann",
        display_name="Ann B",
        role=Role.ANALYST,
        expected_version=created.version,
        by="admin-1",
    )
    await handlers.update_account(first, ctx)
    stale = UpdateAccount(
        username="ann",
        display_name="Ann C",
        role=Role.ADMIN,
        expected_version=created.version,
        by="admin-2",
    )
    with pytest.raises(AccountConflictError, match="changed this account meanwhile"):
        await handlers.update_account(stale, ctx)


async def test_a_rotated_key_is_published_and_verified_without_a_restart(served_web):
    url, keys_file, auth = served_web
    verifier_settings = AuthSettings(
        JOBSTREAM_JWKS_URL=f"{url}/.well-known/jwks.json", JOBSTREAM_JWKS_REFRESH_MIN_S=0
    )
    verifier = TokenVerifier(verifier_settings)
    before = mint_token(auth, subject="a", role=Role.ADMIN)
    assert (await verifier.verify(before)).subject == "a"

    # Step 1 and 2 of the rotation, with the front door running: add, then activate.
    added, kid = SigningKeys.load(keys_file).add()
    write_private(keys_file, added)
    write_private(keys_file, SigningKeys.load(keys_file).activate(kid))
    after = mint_token(auth, subject="b", role=Role.ADMIN)
    assert (await verifier.verify(after)).subject == "b", "the new kid is fetched at once"
    assert (await verifier.verify(before)).subject == "a", "the old key still verifies"

    # Step 3: retire the old key; a fresh verifier no longer accepts its tokens.
    old = next(k["kid"] for k in SigningKeys.load(keys_file).keys if k["kid"] != kid)
    write_private(keys_file, SigningKeys.load(keys_file).retire(old))
    with pytest.raises(InvalidTokenError, match="unknown key"):
        await TokenVerifier(verifier_settings).verify(before)
