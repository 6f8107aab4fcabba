"""Fixtures: the front door's handlers and app in process, with a key set of its own.

They run on a fresh real PostgreSQL database.
"""

import asyncio
import socket

import pytest
import uvicorn

from jobstream.auth.keys import SigningKeys, write_private
from jobstream.db import async_engine
from jobstream.service import Role, ServiceSettings, create_app
from jobstream.settings import AuthSettings, DatabaseSettings
from jobstream.web import handlers
from jobstream.web.app import definition
from jobstream.web.config import WebSettings


@pytest.fixture
async def ctx(database_factory):
    url = database_factory("jobstream.web.db:migrations")
    engine = async_engine(url)
    yield handlers.Context(engine, WebSettings())
    await engine.dispose()


@pytest.fixture
async def served_web(database_factory, tmp_path):
    """The front door's API on a real port, signing with a key file in ``tmp_path``."""
    keys = tmp_path / "signing-keys.json"
    write_private(keys, SigningKeys.generate())
    settings = ServiceSettings()
    settings.database = DatabaseSettings(
        DATABASE_URL=database_factory("jobstream.web.db:migrations")
    )
    settings.auth = AuthSettings(JOBSTREAM_SIGNING_KEYS=str(keys))
    app = create_app(definition(WebSettings()), frozenset({Role.API}), settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}", keys, settings.auth
    server.should_exit = True
    await task
