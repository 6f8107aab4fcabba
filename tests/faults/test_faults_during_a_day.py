"""A simulated day with faults: every service SIGKILLed in turn, the broker and PostgreSQL
restarted, duplicated and malformed messages injected; afterwards every invariant holds and
the dead letters are exactly the malformed messages. On a private Kafka and PostgreSQL."""

import uuid
from pathlib import Path

import pytest

from jobstream.simulation.api import Api
from jobstream.simulation.faults import (
    PrivateInfra,
    dead_letter_differences,
    inject,
    kill_each_service,
    restart_infra,
)
from jobstream.simulation.processes import ServiceStack
from jobstream.simulation.runner import simulate
from jobstream.simulation.scenario import Sizes

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SMALL = Sizes(
    technicians=6,
    requests=15,
    offline_share=0.34,
    waves=3,
    seconds_per_minute=0.02,
    payment_share=0.5,
)


@pytest.fixture
def private_infra(tmp_path: Path):
    private = PrivateInfra(tmp_path / "infra")
    try:
        yield private, private.up()
    finally:
        private.purge()


async def test_a_day_with_faults_loses_and_doubles_nothing(private_infra, tmp_path: Path):
    private, infra = private_infra
    stack = ServiceStack(infra, tmp_path / "logs")
    api = None
    try:
        await stack.create()
        stack.start_all()
        api = Api(stack.urls, retry_for_s=120)
        recovery: dict[str, float] = {}
        injected = []

        async def faults(wave: int) -> None:
            if wave == 0:
                injected.append(await inject(infra.bootstrap_servers, stack.namespace))
                recovery.update(await kill_each_service(stack, api))
            elif wave == 1:
                recovery.update(await restart_infra(private, api))

        outcome = await simulate(
            api,
            seed=81,
            sizes=SMALL,
            tag=uuid.uuid4().hex[:6],
            exclusive=True,
            timeout_s=150,
            between_waves=faults,
        )
        assert outcome.report.failures == [], "\n".join(outcome.report.failures)
        assert set(recovery) == {
            "intake",
            "dispatch",
            "fieldupdates",
            "billing",
            "reporting",
            "kafka",
            "postgresql",
        }
        assert injected[0].duplicates > 0 and len(injected[0].malformed) == 4
        assert dead_letter_differences(stack, injected[0]) == []
    finally:
        if api is not None:
            await api.close()
        await stack.destroy()
