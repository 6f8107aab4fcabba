"""The dispatch service under test: one per test, on its own database and topics."""

import pytest

from .harness import start_dispatch, stop_dispatch


@pytest.fixture
async def dispatch(infra, database_factory, namespace_factory):
    d = await start_dispatch(infra, database_factory, namespace_factory)
    try:
        yield d
    finally:
        await stop_dispatch(d)
