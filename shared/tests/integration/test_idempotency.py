"""Idempotency keys over real PostgreSQL: the lock serialises one key, not others."""

import asyncio

import pytest

from jobstream.db import async_engine
from jobstream.idempotency import lock_key

pytestmark = pytest.mark.integration


async def test_requests_with_one_key_run_one_at_a_time_and_other_keys_do_not_wait(
    database_factory,
):
    engine = async_engine(database_factory(None), pool_size=4)
    inside: list[str] = []
    overlaps: list[tuple[str, str]] = []

    async def request(scope: str, key: str, name: str) -> None:
        async with engine.begin() as conn:
            await lock_key(conn, scope, key)
            overlaps.extend((other, name) for other in inside)
            inside.append(name)
            await asyncio.sleep(0.2)
            inside.remove(name)

    await asyncio.gather(
        request("intake:requests", "key-1", "a"),
        request("intake:requests", "key-1", "b"),
        request("intake:requests", "key-2", "c"),
    )
    await engine.dispose()
    assert ("a", "b") not in overlaps and ("b", "a") not in overlaps
    assert any("c" in pair for pair in overlaps), "another key was made to wait"
