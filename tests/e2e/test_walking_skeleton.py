"""End to end: five service processes on real Kafka and PostgreSQL, driven over HTTP."""

import io
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pypdf
import pytest
import pytest_asyncio

from jobstream.auth import Role, SigningKeys, mint_token
from jobstream.contracts.topics import all_topic_specs
from jobstream.demo import REQUESTS, SERVICES, TECHNICIANS, Stack
from jobstream.messaging.admin import delete_topics, ensure_topics
from jobstream.settings import AuthSettings
from jobstream.testing.infra import create_database, drop_database

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(infra, database_url: str, namespace: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers,
        "JOBSTREAM_NAMESPACE": namespace,
        "JOBSTREAM_ENV": "production",
        # Debug logging everywhere, so the secrets test sees the most a service writes;
        # unbuffered, so the logs are complete while the processes still run.
        "JOBSTREAM_LOG_LEVEL": "DEBUG",
        "PYTHONUNBUFFERED": "1",
    }


def start_services(infra, databases: dict[str, str], log_dir: Path, namespace: str):
    """Migrate (all at once) and start each service as its own OS process."""
    envs = {s: service_env(infra, databases[s], namespace) for s in SERVICES}
    migrations = [
        subprocess.Popen([sys.executable, "-m", f"jobstream.{s}", "migrate"], env=envs[s])
        for s in SERVICES
    ]
    assert [m.wait(timeout=120) for m in migrations] == [0] * len(SERVICES)
    processes: list[subprocess.Popen] = []
    urls: dict[str, str] = {}
    for service in SERVICES:
        port = free_port()
        log = (log_dir / f"{service}.log").open("w")
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", f"jobstream.{service}", "serve", "--port", str(port)],
                env=envs[service],
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


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e-logs")


@pytest_asyncio.fixture(scope="module")
async def stack(infra, log_dir: Path):
    """One stack for the module, as starting five processes is the slow part.

    Each test drives its own work orders through it.
    """
    namespace = f"e2e-{uuid.uuid4().hex[:8]}"
    specs = all_topic_specs(3, namespace)
    await ensure_topics(infra.bootstrap_servers, specs)
    databases = {s: create_database(infra, f"e2e_{s}") for s in SERVICES}
    processes, urls = start_services(infra, databases, log_dir, namespace)
    client = Stack(urls)
    try:
        await client.wait_ready(timeout_s=120)
        await client.register_technicians()
        yield client
    finally:
        await client.close()
        stop_services(processes)
        for url in databases.values():
            drop_database(infra, url)
        await delete_topics(infra.bootstrap_servers, [s.name for s in specs])


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
    # The customer downloads the invoice they receive, printed by the billing process.
    customer = mint_token(
        stack.auth, subject="portal", role=Role.CUSTOMER, customer_id=REQUESTS[0]["customer_id"]
    )
    printed = await stack.client.get(
        f"{stack.urls['billing']}/invoices/{invoice['invoice_number']}.pdf",
        headers={"Authorization": f"Bearer {customer}"},
    )
    assert printed.status_code == 200 and printed.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(printed.content)).pages)
    assert invoice["invoice_number"] in text and "£208.50" in text

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


async def test_no_secret_or_token_reaches_the_logs(stack, log_dir: Path):
    await stack.register_technicians()
    journey = await stack.journey(REQUESTS[2], timeout_s=90)
    async with httpx.AsyncClient() as client:
        url = f"{stack.urls['fieldupdates']}/jobs/{journey.work_order_id}"
        rejected = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged-signature"}
        assert (await client.get(url, headers=rejected)).status_code == 401
    private = SigningKeys.load(AuthSettings().signing_keys).active_key()
    tokens = [
        stack.office["Authorization"].removeprefix("Bearer "),
        stack.technician(journey.technician_id)["Authorization"].removeprefix("Bearer "),
        rejected["Authorization"].removeprefix("Bearer "),
    ]
    logs = read_logs(log_dir)
    assert len(logs) == len(SERVICES) and all(logs.values())
    for name, text in logs.items():
        assert private["d"] not in text, f"the signing key is in {name}"
        assert "jobstream:jobstream@" not in text, f"a database password is in {name}"
        for token in tokens:
            assert token not in text, f"a bearer token is in {name}"
