"""Completing a job: only once, only from dispatched."""

from datetime import UTC, datetime

import pytest

from jobstream.contracts.common import Priority
from jobstream.contracts.field import JobCompleted
from jobstream.fieldupdates.domain.job import (
    Assignment,
    CompleteJob,
    FieldStatus,
    TransitionRefused,
    decide_complete,
)

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
CMD = CompleteJob("t1", 45, "Replaced washer", first_time_fix=True, follow_up_needed=False)


def job(status):
    return Assignment("wo-1", "t1", "c1", "leak_repair", Priority.P3, status)


def test_a_dispatched_job_completes_with_the_job_pack_details():
    [event] = decide_complete(job(FieldStatus.DISPATCHED), CMD, NOW)
    assert isinstance(event, JobCompleted)
    assert (event.customer_id, event.priority, event.labour_minutes) == ("c1", Priority.P3, 45)


def test_a_completed_job_cannot_complete_again_and_the_error_names_the_allowed_state():
    with pytest.raises(TransitionRefused, match="allowed only from dispatched"):
        decide_complete(job(FieldStatus.COMPLETED), CMD, NOW)
