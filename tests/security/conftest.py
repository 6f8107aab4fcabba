"""The five services as real processes on real Kafka and PostgreSQL, for the security tests.

One stack for the package (starting five processes and seeding them costs a minute or more
on this machine), in a namespace and databases of its own that are deleted afterwards. Each
module seeds its own records with its own ids; the role rules run before the fuzzer
(alphabetical order), whose writes could otherwise move their technicians.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio

from jobstream.contracts.topics import all_topic_specs
from jobstream.demo import SERVICES, Stack
from jobstream.messaging.admin import delete_topics, ensure_topics
from jobstream.testing.infra import Infra, create_database, drop_database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LiveStack:
    """Five running service processes and an HTTP client with tokens for them."""

    client: Stack
    namespace: str
    logs: Path
    processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        return self.client.urls

    def log_text(self) -> dict[str, str]:
        """Each service's log so far."""
        return {p.stem: p.read_text(errors="replace") for p in self.logs.glob("*.log")}


def _environment(infra: Infra, database_url: str, namespace: str, objects: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers,
        "JOBSTREAM_NAMESPACE": namespace,
        "JOBSTREAM_ENV": "production",
        "JOBSTREAM_LOG_LEVEL": "INFO",
        "JOBSTREAM_OBJECT_STORE_ROOT": str(objects),
        "PYTHONUNBUFFERED": "1",
    }


@pytest_asyncio.fixture(scope="package")
async def live_stack(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveStack]:
    """Migrate and start intake, dispatch, fieldupdates, billing and reporting (``serve``:
    API, consumers and relay) as separate processes; stop them and delete their databases
    and topics afterwards."""
    workdir = tmp_path_factory.mktemp("stack")
    namespace = f"sec-{uuid.uuid4().hex[:8]}"
    specs = all_topic_specs(3, namespace)
    await ensure_topics(infra.bootstrap_servers, specs)
    databases: list[str] = []
    processes: dict[str, asyncio.subprocess.Process] = {}
    urls: dict[str, str] = {}
    client: Stack | None = None
    try:
        envs = {}
        for service in SERVICES:
            databases.append(await asyncio.to_thread(create_database, infra, "sec"))
            envs[service] = _environment(infra, databases[-1], namespace, workdir / "objects")
        migrations = {
            s: await asyncio.create_subprocess_exec(
                sys.executable, "-m", f"jobstream.{s}", "migrate", env=envs[s]
            )
            for s in SERVICES
        }
        for service, migration in migrations.items():
            assert await migration.wait() == 0, f"{service} migrate failed"
        for service in SERVICES:
            port = free_port()
            with (workdir / f"{service}.log").open("wb") as log:
                processes[service] = await asyncio.create_subprocess_exec(
                    *(sys.executable, "-m", f"jobstream.{service}", "serve", "--port", str(port)),
                    env=envs[service],
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                )
            urls[service] = f"http://127.0.0.1:{port}"
        client = Stack(urls)
        await client.wait_ready(timeout_s=120)
        yield LiveStack(client, namespace, workdir, processes)
    finally:
        if client is not None:
            await client.close()
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        for url in databases:
            await asyncio.to_thread(drop_database, infra, url)
        await delete_topics(infra.bootstrap_servers, [s.name for s in specs])
