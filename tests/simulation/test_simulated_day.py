"""A small simulated business day on five service processes: every invariant holds."""

import uuid
from pathlib import Path

import pytest
import pytest_asyncio

from jobstream.simulation.api import Api
from jobstream.simulation.processes import ServiceStack
from jobstream.simulation.runner import simulate
from jobstream.simulation.scenario import Sizes

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


async def test_a_simulated_day_keeps_every_invariant(stack):
    api = Api(stack.urls, retry_for_s=60)
    try:
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
