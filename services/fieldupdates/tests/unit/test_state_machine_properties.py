"""Properties of the status flow over arbitrary sequences of device actions (hypothesis)."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from jobstream.contracts.field import (
    HoldReason,
    IncompleteReason,
    JobCompleted,
    TimeKind,
    TimeLogged,
)
from jobstream.fieldupdates.domain import commands as c
from jobstream.fieldupdates.domain.decide import (
    TRANSITIONS,
    ActionRefusedError,
    allowed_actions,
    decide,
)
from jobstream.fieldupdates.domain.state import CLOSED, FieldJob, evolve, fold

from .factories import act, assignment

commands = st.one_of(
    st.just(c.Acknowledge()),
    st.just(c.StartTravel()),
    st.just(c.ReviseEta(eta=datetime(2026, 12, 3, 10, tzinfo=UTC))),
    st.just(c.Arrive()),
    st.just(c.StartWork()),
    st.sampled_from(list(HoldReason)).map(lambda r: c.PutOnHold(reason=r)),
    st.just(c.Resume()),
    st.builds(
        c.Complete,
        work_done=st.just("Done"),
        first_time_fix=st.booleans(),
        labour_minutes=st.one_of(st.none(), st.integers(0, 3000)),
    ),
    st.sampled_from(list(IncompleteReason)).map(lambda r: c.CouldNotComplete(reason=r)),
    st.builds(c.LogTime, kind=st.sampled_from(list(TimeKind)), minutes=st.integers(1, 600)),
    st.builds(c.AddNote, text=st.just("note"), carry_forward=st.booleans()),
)
A = assignment()


def play(sequence):
    """(final job, every event emitted, [(command, accepted)])."""
    job, emitted, trace = FieldJob("wo-1"), [], []
    for command in sequence:
        before = job.status
        try:
            events = decide(job, A, act(command))
        except ActionRefusedError as refused:
            trace.append((command, before, False, refused.allowed))
            continue
        for event in events:
            job = evolve(job, event)
        emitted += events
        trace.append((command, before, True, ()))
    return job, emitted, trace


@settings(max_examples=300, deadline=None)
@given(st.lists(commands, max_size=30))
def test_an_action_is_accepted_exactly_when_the_status_allows_it(sequence):
    job = FieldJob("wo-1")
    for command in sequence:
        allowed = allowed_actions(job, A)
        try:
            events = decide(job, A, act(command))
        except ActionRefusedError as refused:
            stated_too_little = (
                isinstance(command, c.Complete) and command.labour_minutes is not None
            )
            assert command.action_type not in allowed or stated_too_little
            assert refused.allowed == allowed or stated_too_little
            continue
        assert command.action_type in allowed
        before = job.status
        for event in events:
            job = evolve(job, event)
        expected = TRANSITIONS[before].get(command.action_type, before)
        assert job.status is expected


@settings(max_examples=300, deadline=None)
@given(st.lists(commands, max_size=30))
def test_completed_labour_always_equals_the_labour_time_logged_before_it(sequence):
    _, emitted, _ = play(sequence)
    logged = 0
    for event in emitted:
        if isinstance(event, TimeLogged) and event.kind is TimeKind.LABOUR:
            logged += event.minutes
        if isinstance(event, JobCompleted):
            assert event.labour_minutes == logged


@settings(max_examples=200, deadline=None)
@given(st.lists(commands, max_size=30))
def test_replaying_the_emitted_events_rebuilds_the_same_job(sequence):
    job, emitted, _ = play(sequence)
    assert fold("wo-1", enumerate(emitted, start=1)) == job


@settings(max_examples=200, deadline=None)
@given(st.lists(commands, max_size=30))
def test_once_a_visit_is_closed_no_action_is_accepted(sequence):
    _, _, trace = play(sequence)
    closed_at = next((i for i, (_c, before, _a, _al) in enumerate(trace) if before in CLOSED), None)
    if closed_at is not None:
        assert not any(accepted for _c, _b, accepted, _al in trace[closed_at:])
