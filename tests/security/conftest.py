"""The five services as real processes on real Kafka and PostgreSQL, for the security tests.

One stack for the package (starting five processes and seeding them costs a minute or more
on this machine), in a namespace and databases of its own that are deleted afterwards. Each
module seeds its own records with its own ids; the role rules run before the fuzzer
(alphabetical order), whose writes could otherwise move their technicians.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from jobstream.demo import Stack
from jobstream.simulation.processes import ServiceStack
from jobstream.testing.infra import Infra


@dataclass
class LiveStack:
    """Five running service processes and an HTTP client with tokens for them."""

    client: Stack
    namespace: str
    logs: Path

    @property
    def urls(self) -> dict[str, str]:
        return self.client.urls

    def log_text(self) -> dict[str, str]:
        """Each service's log so far."""
        return {p.stem: p.read_text(errors="replace") for p in self.logs.glob("*.log")}


@pytest_asyncio.fixture(scope="package")
async def live_stack(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveStack]:
    """Migrate and start intake, dispatch, fieldupdates, billing and reporting as processes.

    Each runs ``serve`` (API, consumers and relay) as a separate process; they are stopped
    and their databases and topics deleted afterwards.
    """
    workdir = tmp_path_factory.mktemp("stack")
    services = ServiceStack(
        infra,
        workdir,
        namespace=f"sec-{uuid.uuid4().hex[:8]}",
        extra_env={
            "JOBSTREAM_LOG_LEVEL": "INFO",
            "JOBSTREAM_OBJECT_STORE_ROOT": str(workdir / "objects"),
        },
    )
    client: Stack | None = None
    try:
        await services.create()
        services.start_all()
        client = Stack(services.urls)
        await client.wait_ready(timeout_s=120)
        yield LiveStack(client, services.namespace, workdir)
    finally:
        if client is not None:
            await client.close()
        await services.destroy()
