"""A simulated day with faults, after which every invariant holds.

Every service is SIGKILLed in turn, the broker and PostgreSQL restarted, duplicated and
malformed messages injected; afterwards every invariant holds and the dead letters are exactly
the malformed messages. On a private Kafka and PostgreSQL.
"""

import uuid
from pathlib import Path

import pytest

from jobstream.simulation.faults import day_with_faults
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


async def test_a_day_with_faults_loses_and_doubles_nothing(tmp_path: Path):
    day = await day_with_faults(
        tmp_path, seed=81, sizes=SMALL, tag=uuid.uuid4().hex[:6], timeout_s=150
    )
    assert day.outcome.report.failures == [], "\n".join(day.outcome.report.failures)
    assert set(day.recovery_seconds) == {
        "intake",
        "dispatch",
        "fieldupdates",
        "billing",
        "reporting",
        "kafka",
        "postgresql",
    }
    assert day.injected.duplicates > 0 and len(day.injected.malformed) == 4
    assert day.dead_letter_problems == []
    assert day.ok
