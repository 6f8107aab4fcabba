"""Fixtures: fieldupdates' API in process, on a fresh real PostgreSQL database."""

import httpx
import pytest

from jobstream.fieldupdates.app import definition
from jobstream.objectstore import LocalObjectStore
from jobstream.service import Role, ServiceSettings, create_app
from jobstream.settings import DatabaseSettings

from .harness import Field


@pytest.fixture
async def field(database_factory, tmp_path):
    url = database_factory("jobstream.fieldupdates.db:migrations")
    settings = ServiceSettings()
    settings.database = DatabaseSettings(DATABASE_URL=url)
    app = create_app(definition(), frozenset({Role.API}), settings)
    app.state.object_store = LocalObjectStore(tmp_path / "objects")
    engine = app.state.runtime.engine
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://fieldupdates"
    ) as client:
        yield Field(client, engine)
    await engine.dispose()
