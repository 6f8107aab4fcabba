"""End to end: five service processes on real Kafka and PostgreSQL, driven over HTTP."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from jobstream.demo import REQUESTS, SERVICES, TECHNICIANS, Stack

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
            # Debug logging everywhere, so the secrets test sees the most a service writes;
            # unbuffered, so the logs are complete while the processes still run.
            "JOBSTREAM_LOG_LEVEL": "DEBUG",
            "PYTHONUNBUFFERED": "1",
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
async def stack(infra, database_factory, namespace_factory, tmp_path: Path):
    namespace = await namespace_factory("e2e")
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
    # Call-out P2 £80.00 + 1.25 h labour at £65.00 = £161.25 net, VAT 20 % = £32.25.
    invoice = journey.invoice
    assert invoice["net_total_minor"] == 16_125
    assert invoice["tax_total_minor"] == 3_225
    assert invoice["gross_total_minor"] == 19_350
    assert invoice["invoice_number"].startswith("INV-")

    types = [e["event_type"] for e in journey.timeline]
    sheet = {"ChecklistItemAnswered", "AttachmentAdded"}
    # The gas job sheet (pressure, flue, CO ratio, CO alarm, data-plate photo) is answered
    # on the device before completion, which it gates.
    assert types.count("ChecklistItemAnswered") == 5 and types.count("AttachmentAdded") == 1
    assert max(i for i, t in enumerate(types) if t in sheet) < types.index("JobCompleted")
    assert [t for t in types if t not in sheet] == [
        "RequestLogged",
        "WorkOrderReleased",
        "JobScheduled",
        "JobDispatched",
        "JobAcknowledged",
        "TravelStarted",
        "TechnicianArrived",
        "JobStarted",
        "TimeLogged",
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


def read_logs(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in directory.glob("*.log")}


async def test_no_secret_or_token_reaches_the_logs(stack, tmp_path: Path):
    await stack.register_technicians()
    journey = await stack.journey(REQUESTS[2], timeout_s=90)
    async with httpx.AsyncClient() as client:
        url = f"{stack.urls['fieldupdates']}/jobs/{journey.work_order_id}"
        rejected = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged-signature"}
        assert (await client.get(url, headers=rejected)).status_code == 401
    secret = os.environ["JOBSTREAM_JWT_SECRET"]
    tokens = [
        stack.office["Authorization"].removeprefix("Bearer "),
        stack.technician(journey.technician_id)["Authorization"].removeprefix("Bearer "),
        rejected["Authorization"].removeprefix("Bearer "),
    ]
    logs = read_logs(tmp_path)
    assert len(logs) == len(SERVICES) and all(logs.values())
    for name, text in logs.items():
        assert secret not in text, f"the JWT secret is in {name}"
        assert "jobstream:jobstream@" not in text, f"a database password is in {name}"
        for token in tokens:
            assert token not in text, f"a bearer token is in {name}"
