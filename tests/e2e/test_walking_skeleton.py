"""End to end: five service processes on real Kafka and PostgreSQL, driven over HTTP."""

import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from jobstream.contracts.topics import all_topic_specs
from jobstream.demo import REQUESTS, SERVICES, TECHNICIANS, Stack
from jobstream.messaging.admin import ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_services(infra, database_factory, tmp_path: Path, namespace: str):
    """Migrate and start each service as its own OS process; returns (processes, urls)."""
    processes: list[subprocess.Popen] = []
    urls: dict[str, str] = {}
    for service in SERVICES:
        env = {
            **os.environ,
            "DATABASE_URL": database_factory(None),
            "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers,
            "JOBSTREAM_NAMESPACE": namespace,
            "JOBSTREAM_ENV": "production",
        }
        module = f"jobstream.{service}"
        subprocess.run([sys.executable, "-m", module, "migrate"], env=env, check=True)
        port = free_port()
        log = (tmp_path / f"{service}.log").open("w")
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", module, "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        urls[service] = f"http://127.0.0.1:{port}"
    return processes, urls


def stop_services(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
async def stack(infra, database_factory, tmp_path: Path):
    namespace = f"e2e-{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.bootstrap_servers, all_topic_specs(3, namespace))
    processes, urls = start_services(infra, database_factory, tmp_path, namespace)
    client = Stack(urls)
    try:
        await client.wait_ready(timeout_s=90)
        yield client
    finally:
        await client.close()
        stop_services(processes)


async def test_a_job_travels_from_request_to_invoice_across_five_processes(stack):
    await stack.register_technicians()
    journey = await stack.journey(REQUESTS[0], timeout_s=90)  # P2 gas boiler service

    # Only the Gas Safe engineer holds the gas_boiler skill and gas_safe certification.
    assert journey.technician_id == "tech-amir"
    # Default rate card v1: call-out P2 £80.00 + 75 min (1.25 h, already a whole number of
    # quarter hours) at Amir's level-4 gas_boiler rate £75.00/h = £93.75, so £173.75 net;
    # VAT 20 % per line: £16.00 + £18.75 = £34.75; gross £208.50. Labour stated at completion
    # carries no start/end times, so it is billed at the normal (not out-of-hours) rate.
    invoice = journey.invoice
    assert invoice["net_total_minor"] == 17_375
    assert invoice["tax_total_minor"] == 3_475
    assert invoice["gross_total_minor"] == 20_850
    assert invoice["invoice_number"].startswith("INV-")
    assert all(line["source_event_ids"] for line in invoice["lines"])

    types = [e["event_type"] for e in journey.timeline]
    assert types == [
        "RequestLogged",
        "WorkOrderReleased",
        "JobScheduled",
        "JobDispatched",
        "JobCompleted",
        "InvoiceIssued",
    ]
    sources = {e["source"] for e in journey.timeline}
    assert sources == {
        "jobstream/intake",
        "jobstream/dispatch",
        "jobstream/fieldupdates",
        "jobstream/billing",
    }
    # The causal chain is recorded: each reaction names the event that caused it.
    by_type = {e["event_type"]: e for e in journey.timeline}
    assert by_type["JobScheduled"]["causation_id"] == by_type["WorkOrderReleased"]["event_id"]
    assert by_type["InvoiceIssued"]["causation_id"] == by_type["JobCompleted"]["event_id"]


async def test_every_job_goes_to_a_qualified_technician(stack):
    await stack.register_technicians()
    skills = {t["technician_id"]: {s["name"] for s in t["skills"]} for t in TECHNICIANS}
    needed = {"boiler_service": "gas_boiler", "leak_repair": "plumbing", "hvac_maintenance": "hvac"}
    for request in REQUESTS:
        journey = await stack.journey(request, timeout_s=90)
        assert needed[request["job_type"]] in skills[journey.technician_id]


async def test_a_technician_cannot_touch_another_technicians_job(stack):
    await stack.register_technicians()
    journey = await stack.journey(REQUESTS[1], timeout_s=90)
    other = next(
        t["technician_id"] for t in TECHNICIANS if t["technician_id"] != journey.technician_id
    )
    url = f"{stack.urls['fieldupdates']}/jobs/{journey.work_order_id}"
    async with httpx.AsyncClient() as client:
        assert (await client.get(url, headers=stack.technician(other))).status_code == 403
        assert (await client.get(url)).status_code == 401
        bad = {"Authorization": "Bearer not-a-token"}
        assert (await client.get(url, headers=bad)).status_code == 401
