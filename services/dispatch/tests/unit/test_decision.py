"""The plan diff, pure: which jobs a decision changed and the events that say so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobstream.contracts.dispatch import JobPack
from jobstream.dispatch.config import DispatchSettings
from jobstream.dispatch.domain.decision import (
    Cause,
    Decision,
    JobChange,
    changes,
    events_for,
    legs,
    not_before,
)
from jobstream.dispatch.domain.insertion import Engine
from jobstream.dispatch.domain.plan import to_datetime
from jobstream.testing.builders import JobStory

from .planning import TRAVEL, at, crew, job, plan, visit

CAUSE = Cause("evt-1", datetime(2026, 11, 23, 8, 0, tzinfo=UTC))


def decision(visits=(), before=(), **extra) -> Decision:
    jobs = [job("wo-a"), job("wo-b")]
    live = plan([crew("tech-1"), crew("tech-2")], jobs, visits)
    rows = {j.job_id: {"work_order_id": j.job_id} for j in jobs}
    return Decision(
        live,
        Engine(TRAVEL),
        TRAVEL,
        DispatchSettings(),
        {v.job_id: v for v in before},
        rows,
        {},
        {},
        **extra,
    )


def pack_for(start: int) -> JobPack:
    return JobPack(
        details=JobStory().details(),
        window_start=to_datetime(start),
        window_end=to_datetime(start + 60),
    )


def test_an_untouched_plan_says_nothing():
    same = visit("wo-a", "tech-1", at(9))
    assert changes(decision([same], before=[same])) == []


def test_a_new_visit_is_scheduled_and_its_pack_goes_to_the_device():
    new = visit("wo-a", "tech-1", at(9))
    d = decision([new])
    [change] = changes(d)
    assert change == JobChange("wo-a", None, new, needs_pack=True)
    out = events_for(d, change, CAUSE, CAUSE.at, pack_for(new.start), legs(d))
    assert [e.event_type for e in out] == ["JobScheduled", "JobDispatched"]
    assert out[0].technician_id == "tech-1" and out[0].window_start == to_datetime(at(9))
    with pytest.raises(ValueError, match="a pack is needed"):
        events_for(d, change, CAUSE, CAUSE.at, None, legs(d))


def test_a_move_on_the_same_technician_reschedules_without_a_new_pack():
    old, new = visit("wo-a", "tech-1", at(9)), visit("wo-a", "tech-1", at(11))
    d = decision([new], before=[old])
    [change] = changes(d)
    assert not change.needs_pack
    [event] = events_for(d, change, CAUSE, CAUSE.at, None, legs(d))
    assert event.event_type == "JobRescheduled"
    assert event.previous_window_start == to_datetime(at(9))


def test_a_move_to_another_technician_sends_the_pack_to_them():
    old, new = visit("wo-a", "tech-1", at(9)), visit("wo-a", "tech-2", at(9))
    d = decision([new], before=[old])
    [change] = changes(d)
    assert change.needs_pack
    out = events_for(d, change, CAUSE, CAUSE.at, pack_for(new.start), legs(d))
    assert [e.event_type for e in out] == ["JobRescheduled", "JobDispatched"]


def test_a_visit_taken_off_says_why():
    old = visit("wo-a", "tech-1", at(9))
    d = decision([], before=[old], unscheduled_reason={"wo-a": "work order cancelled: dup"})
    [change] = changes(d)
    [event] = events_for(d, change, CAUSE, CAUSE.at, None, legs(d))
    assert event.event_type == "JobUnscheduled"
    assert event.reason == "work order cancelled: dup"


def test_a_decision_never_reads_before_the_jobs_last_one():
    later = CAUSE.at + timedelta(minutes=5)
    assert not_before(CAUSE.at, later) == later
    assert not_before(later, CAUSE.at) == later
    assert not_before(CAUSE.at, None) == CAUSE.at
