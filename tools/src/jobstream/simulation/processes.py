"""The five services as separate OS processes on a given broker and database server.

They have their own databases and topic namespace: this is what `jobstream simulate
--start-stack` and the fault tests run against. Each service can be SIGKILLed and started
again on its port.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from jobstream.contracts.topics import all_topic_specs
from jobstream.messaging.admin import delete_topics, ensure_topics
from jobstream.simulation.api import SERVICES
from jobstream.testing.infra import Infra, create_database, drop_database


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServiceStack:
    """Five service processes, their databases, topics and logs."""

    infra: Infra
    log_dir: Path
    namespace: str = field(default_factory=lambda: f"sim-{uuid.uuid4().hex[:8]}")
    partitions: int = 3
    databases: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, IO[bytes]] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    # The five services; add "web" for the front door (browser tests).
    services: tuple[str, ...] = SERVICES

    @property
    def urls(self) -> dict[str, str]:
        """Base URL of each service."""
        return {s: f"http://127.0.0.1:{p}" for s, p in self.ports.items()}

    @property
    def topics(self) -> list[str]:
        """Every topic of the namespace (events and dead letters)."""
        return [s.name for s in all_topic_specs(self.partitions, self.namespace)]

    def env(self, service: str) -> dict[str, str]:
        """The environment a service process runs with.

        The front door is told where the others listen.
        """
        upstreams = (
            {f"WEB_{s.upper()}_URL": url for s, url in self.urls.items() if s != "web"}
            if service == "web"
            else {}
        )
        return {
            **upstreams,
            **os.environ,
            "DATABASE_URL": self.databases[service],
            "KAFKA_BOOTSTRAP_SERVERS": self.infra.bootstrap_servers,
            "JOBSTREAM_NAMESPACE": self.namespace,
            "JOBSTREAM_ENV": "production",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    async def create(self) -> None:
        """Topics, databases (migrated, all at once), ports."""
        await ensure_topics(
            self.infra.bootstrap_servers, all_topic_specs(self.partitions, self.namespace)
        )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.databases = {s: create_database(self.infra, f"sim_{s}") for s in self.services}
        await asyncio.to_thread(self._migrate)
        self.ports = {s: free_port() for s in self.services}

    def _migrate(self) -> None:
        migrations = [
            subprocess.Popen(
                [sys.executable, "-m", f"jobstream.{s}", "migrate"],
                env=self.env(s),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for s in self.services
        ]
        for service, migration in zip(self.services, migrations, strict=True):
            _, err = migration.communicate(timeout=300)
            if migration.returncode != 0:
                raise RuntimeError(f"{service} migrate failed: {err.decode()[-2000:]}")

    def start(self, service: str) -> None:
        """Start (or start again) one service on its port."""
        log = self.logs.get(service)
        if log is None:
            log = self.logs[service] = (self.log_dir / f"{service}.log").open("ab")
        self.processes[service] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                f"jobstream.{service}",
                "serve",
                "--port",
                str(self.ports[service]),
            ],
            env=self.env(service),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_all(self) -> None:
        """Every service."""
        for service in self.services:
            self.start(service)

    def kill(self, service: str) -> None:
        """SIGKILL one service: no shutdown, no flush, mid-whatever it was doing."""
        process = self.processes[service]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        """SIGTERM every service, SIGKILL any that lingers."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for log in self.logs.values():
            log.close()
        self.logs.clear()

    def dead_letters(self, service: str) -> list[list[str]]:
        """`jobstream-<service> dead-letters`: one row of tab-separated fields per letter."""
        result = subprocess.run(
            [sys.executable, "-m", f"jobstream.{service}", "dead-letters"],
            env=self.env(service),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return [line.split("\t") for line in result.stdout.splitlines() if "\t" in line]

    async def destroy(self) -> None:
        """Stop, drop the databases, delete the topics."""
        self.stop_all()
        for url in self.databases.values():
            drop_database(self.infra, url)
        await delete_topics(self.infra.bootstrap_servers, self.topics)
