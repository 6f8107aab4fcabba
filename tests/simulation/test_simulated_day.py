"""A small simulated business day on five service processes: every invariant holds."""

import uuid
from pathlib import Path

import pytest
import pytest_asyncio

from jobstream.simulation.api import Api
from jobstream.simulation.processes import ServiceStack
from jobstream.simulation.runner import simulate
from jobstream.simulation.scenario import ON_CALL, Sizes

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SMALL = Sizes(
    technicians=7,
    requests=18,
    offline_share=0.3,
    waves=2,
    seconds_per_minute=0.03,
    payment_share=0.6,
)


@pytest_asyncio.fixture
async def stack(infra, tmp_path: Path):
    services = ServiceStack(infra, tmp_path / "logs")
    try:
        await services.create()
        services.start_all()
        yield services
    finally:
        await services.destroy()


# Someone else's crew member on the same stack (as on `make up`, with the demo's crew):
# every trade, at the centre of the day's sites, always on call, so dispatch gives them
# some of the run's jobs; the run's office must take those back for its own technicians.
OUTSIDER = {
    "technician_id": "tech-outside-the-run",
    "name": "Outside Technician",
    "skills": [{"name": n, "level": 3} for n in ("gas_boiler", "plumbing", "hvac", "electrical")],
    "certifications": [
        {"name": n, "expires_on": "2030-01-01"} for n in ("gas_safe", "f_gas", "18th_edition")
    ],
    "home_base": {"lat": 53.48, "lon": -2.24},
    "time_zone": "Europe/London",
    "shifts": ON_CALL,
}


async def test_a_simulated_day_keeps_every_invariant(stack):
    api = Api(stack.urls, retry_for_s=60)
    try:
        await api.wait_ready(60)
        await api.call("dispatch", "POST", "/technicians", json=OUTSIDER, headers=api.office)
        outcome = await simulate(
            api, seed=8, sizes=SMALL, tag=uuid.uuid4().hex[:6], exclusive=True, timeout_s=90
        )
    finally:
        await api.close()
    summary = outcome.summary()
    assert outcome.report.failures == [], "\n".join(outcome.report.failures)
    # The day exercised what it is meant to: every channel, offline devices syncing in
    # repeated batches, completions, an incomplete visit, invoices paid.
    assert set(summary["channels"]) >= {"phone", "portal", "api", "email", "planned"}
    assert summary["triaged_emails"] == 1
    assert summary["sync_duplicates_answered"] > 0
    assert summary["completed"] > 0 and summary["payments"] > 0
    assert outcome.report.checked["invoice totals equal the simulator's pricing"] > 0
    # On a shared stack, jobs given to someone else's technician were taken back.
    assert summary["claimed_from_other_technicians"] > 0
