"""A real Prometheus scrapes the six service processes: every one is up, ready, and the rules load.

Debian's Prometheus with its own configuration and data directory on a free port, a scrape
job per service named as the rules expect (``jobstream-<service>``), the repo's alert rules
loaded; the services are the stack's processes on the session's Kafka and PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml

from jobstream.demo import wait_until_ready
from jobstream.simulation.api import SERVICES
from jobstream.simulation.processes import ServiceStack, free_port
from jobstream.testing.infra import repo_root
from jobstream.testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REPO = repo_root()
RULE_FILES = sorted((REPO / "deploy/monitoring/rules").glob("*.yml"))
KUBERNETES_CONFIG = REPO / "deploy/monitoring/prometheus/kubernetes.yml"
PROMETHEUS = os.environ.get("JOBSTREAM_PROMETHEUS", "/usr/bin/prometheus")
EVERY = (*SERVICES, "web")
# The services whose process runs an outbox relay (they own an events table).
WITH_RELAY = {"intake", "dispatch", "fieldupdates", "billing"}
# What the Kubernetes scrape job must make of intake's API pod.
POD_JOB = "jobstream-intake-api"
POD_NAME = "jobstream-intake-api-5f7c9-x2x4q"


def kubernetes_job_on_static_targets(port: int) -> dict[str, Any]:
    """The Kubernetes example's scrape job, its discovery replaced by static targets.

    Debian's Prometheus has no Kubernetes discovery; targets carrying the same meta labels
    put its relabelling to work on a real scrape: one pod of the chart, one pod not to scrape.
    """
    (job,) = yaml.safe_load(KUBERNETES_CONFIG.read_text())["scrape_configs"]
    del job["kubernetes_sd_configs"]
    pod = {
        "__meta_kubernetes_pod_label_app_kubernetes_io_name": "jobstream",
        "__meta_kubernetes_pod_label_app_kubernetes_io_component": "intake-api",
        "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
        "__meta_kubernetes_pod_annotation_prometheus_io_port": str(port),
        "__meta_kubernetes_pod_annotation_prometheus_io_path": "/metrics",
        "__meta_kubernetes_pod_name": POD_NAME,
        "__meta_kubernetes_namespace": "jobstream",
    }
    # The pod's own address has the container port of a pod network, not the service's.
    job["static_configs"] = [
        {"targets": ["127.0.0.1:1"], "labels": pod},
        {
            "targets": [f"127.0.0.1:{port}"],
            "labels": {**pod, "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "false"},
        },
    ]
    return job


@pytest_asyncio.fixture
async def stack(infra: Any, tmp_path: Path) -> AsyncIterator[ServiceStack]:
    services = ServiceStack(
        infra,
        tmp_path / "logs",
        namespace=f"mon-{uuid.uuid4().hex[:8]}",
        services=EVERY,
        extra_env={"JOBSTREAM_LOG_LEVEL": "INFO"},
    )
    try:
        await services.create()
        services.start_all()
        async with httpx.AsyncClient(timeout=5) as client:
            await wait_until_ready(client, services.urls, timeout_s=120)
        yield services
    finally:
        await services.destroy()


@pytest.fixture
def prometheus(stack: ServiceStack, tmp_path: Path) -> Iterator[str]:
    """Prometheus scraping every service each second; its base URL."""
    assert shutil.which(PROMETHEUS), f"no Prometheus at {PROMETHEUS}: apt-get install prometheus"
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in RULE_FILES],
        "scrape_configs": [
            {
                "job_name": f"jobstream-{service}",
                "static_configs": [{"targets": [f"127.0.0.1:{stack.ports[service]}"]}],
            }
            for service in EVERY
        ]
        + [kubernetes_job_on_static_targets(stack.ports["intake"])],
    }
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    with (tmp_path / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


async def query(client: httpx.AsyncClient, url: str, promql: str) -> list[dict[str, Any]]:
    """The instant vector ``promql`` gives now."""
    response = await client.get(f"{url}/api/v1/query", params={"query": promql})
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result


def by_job(vector: list[dict[str, Any]]) -> dict[str, str]:
    return {sample["metric"]["job"]: sample["value"][1] for sample in vector}


async def test_prometheus_sees_every_service_up_and_ready_and_evaluates_every_rule(
    prometheus: str,
):
    jobs = {f"jobstream-{service}" for service in EVERY} | {POD_JOB}
    async with httpx.AsyncClient(timeout=5) as client:

        async def prometheus_ready() -> bool:
            try:
                return (await client.get(f"{prometheus}/-/ready")).status_code == HTTPStatus.OK
            except httpx.HTTPError:
                return False

        await wait_until(prometheus_ready, timeout=60, interval=0.2, message="Prometheus")

        async def every_target_up() -> dict[str, str] | None:
            up = by_job(await query(client, prometheus, "up"))
            return up if up == dict.fromkeys(jobs, "1") else None

        await wait_until(every_target_up, timeout=60, interval=0.5, message="up == 1 everywhere")
        (pod,) = await query(client, prometheus, f'up{{job="{POD_JOB}"}}')
        assert (pod["metric"]["instance"], pod["metric"]["namespace"]) == (POD_NAME, "jobstream")

        # Readiness comes with every scrape, probed or not. Its value is not asserted:
        # reporting's consumer re-joins its group every few seconds on an idle stack (a
        # known problem this same gauge shows), so all six are not always ready at once.
        ready = by_job(await query(client, prometheus, "jobstream_ready"))
        assert set(ready) == jobs and set(ready.values()) <= {"0", "1"}
        backlog = by_job(await query(client, prometheus, "jobstream_relay_backlog_events"))
        assert set(backlog) == {f"jobstream-{service}" for service in WITH_RELAY} | {POD_JOB}

        async def every_rule_evaluated() -> list[dict[str, Any]] | None:
            response = await client.get(f"{prometheus}/api/v1/rules")
            rules = [r for g in response.json()["data"]["groups"] for r in g["rules"]]
            evaluated = all(not r["lastEvaluation"].startswith("0001") for r in rules)
            return rules if rules and evaluated else None

        rules = await wait_until(every_rule_evaluated, timeout=30, interval=0.5, message="rules")
        assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []
        assert len(rules) == sum(
            len(group["rules"])
            for path in RULE_FILES
            for group in yaml.safe_load(path.read_text())["groups"]
        )
        # A healthy idle stack fires nothing.
        firing = await query(client, prometheus, 'ALERTS{alertstate="firing"}')
        assert [sample["metric"]["alertname"] for sample in firing] == []
