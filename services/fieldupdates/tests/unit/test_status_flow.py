"""The status flow: given the job so far, when the technician acts, then these events."""

from datetime import timedelta

import pytest

from jobstream.contracts.field import (
    EtaRevised,
    HoldReason,
    IncompleteReason,
    JobAcknowledged,
    JobCompleted,
    JobIncomplete,
    JobPutOnHold,
    TravelStarted,
)
from jobstream.fieldupdates.domain import commands as c
from jobstream.fieldupdates.domain.decide import (
    ActionRefusedError,
    JobTakenAwayError,
    allowed_actions,
    decide,
)
from jobstream.fieldupdates.domain.state import FieldJob, FieldStatus, evolve, fold

from .factories import T0, act, assignment


def run(*commands: c.Command, job: FieldJob | None = None, a=None) -> FieldJob:
    job = job or FieldJob("wo-1")
    a = a or assignment()
    for command in commands:
        for event in decide(job, a, act(command)):
            job = evolve(job, event)
    return job


DONE = c.Complete(work_done="Replaced pump", first_time_fix=True)
TO_WORK = (
    c.Acknowledge(),
    c.StartTravel(eta=T0 + timedelta(minutes=30)),
    c.Arrive(),
    c.StartWork(),
)


def test_a_dispatched_job_is_acknowledged():
    [event] = decide(FieldJob("wo-1"), assignment(), act(c.Acknowledge()))
    assert isinstance(event, JobAcknowledged)
    assert (event.technician_id, event.work_order_id) == ("t1", "wo-1")


def test_travel_records_the_eta_and_both_clocks():
    job = run(c.Acknowledge())
    action = act(c.StartTravel(eta=T0 + timedelta(minutes=40)))
    [event] = decide(job, assignment(), action)
    assert isinstance(event, TravelStarted)
    assert event.eta == T0 + timedelta(minutes=40)
    assert (event.device_time, event.received_at) == (action.device_time, action.received_at)


def test_the_whole_flow_ends_completed():
    job = run(*TO_WORK, c.PutOnHold(reason=HoldReason.PARTS_REQUIRED), c.Resume(), DONE)
    assert job.status is FieldStatus.COMPLETED
    assert [s for s, _ in job.status_history] == [
        FieldStatus.ACKNOWLEDGED,
        FieldStatus.EN_ROUTE,
        FieldStatus.ON_SITE,
        FieldStatus.IN_PROGRESS,
        FieldStatus.ON_HOLD,
        FieldStatus.IN_PROGRESS,
        FieldStatus.COMPLETED,
    ]


def test_a_hold_keeps_its_reason():
    job = run(*TO_WORK)
    [event] = decide(job, assignment(), act(c.PutOnHold(reason=HoldReason.CUSTOMER_UNAVAILABLE)))
    assert isinstance(event, JobPutOnHold)
    assert evolve(job, event).hold_reason is HoldReason.CUSTOMER_UNAVAILABLE


def test_an_invalid_transition_is_refused_naming_the_allowed_ones():
    job = run(c.Acknowledge())
    with pytest.raises(ActionRefusedError) as refused:
        decide(job, assignment(), act(DONE))
    assert "cannot complete while the job is acknowledged" in refused.value.message
    assert refused.value.allowed[0] == "start_travel"
    assert "allowed now: start_travel" in refused.value.message


def test_a_job_on_hold_must_resume_before_completing():
    job = run(*TO_WORK, c.PutOnHold(reason=HoldReason.PARTS_REQUIRED))
    with pytest.raises(ActionRefusedError, match="while the job is on_hold"):
        decide(job, assignment(), act(DONE))


def test_could_not_complete_ends_the_visit_with_its_reason_and_the_time_logged():
    job = run(*TO_WORK, c.LogTime(kind="labour", minutes=20))
    [event] = decide(
        job,
        assignment(),
        act(c.CouldNotComplete(reason=IncompleteReason.NO_ACCESS, detail="Locked")),
    )
    assert isinstance(event, JobIncomplete)
    assert (event.reason, event.labour_minutes, event.customer_id) == (
        IncompleteReason.NO_ACCESS,
        20,
        "cust-test",
    )


def test_a_closed_visit_refuses_records():
    job = run(*TO_WORK, DONE)
    with pytest.raises(ActionRefusedError, match="nothing"):
        decide(job, assignment(), act(c.AddNote(text="late")))


def test_a_cancelled_job_is_a_conflict():
    with pytest.raises(JobTakenAwayError, match="cancelled"):
        decide(FieldJob("wo-1"), assignment(cancelled=True), act(c.Acknowledge()))


def test_a_reassigned_job_is_a_conflict_for_its_former_technician():
    moved = assignment(technician_id="t2", former_technicians=frozenset({"t1"}))
    with pytest.raises(JobTakenAwayError, match="reassigned"):
        decide(FieldJob("wo-1"), moved, act(c.Acknowledge(), technician="t1"))
    assert moved.ever_had("t1") and not moved.may_see("t1")


def test_a_new_visit_restarts_the_status_but_keeps_the_records():
    job = run(*TO_WORK, c.LogTime(kind="labour", minutes=30))
    events = [(i + 1, e) for i, e in enumerate(_events_of(job))]
    again = fold("wo-1", events, visit_started_version=len(events))
    assert again.status is FieldStatus.DISPATCHED
    assert again.labour_minutes == 30


def _events_of(job: FieldJob):
    # Rebuild the events from a fresh run (decide is pure, so this is deterministic).
    out = []
    fresh = FieldJob("wo-1")
    for command in (*TO_WORK, c.LogTime(kind="labour", minutes=30)):
        for event in decide(fresh, assignment(), act(command)):
            fresh = evolve(fresh, event)
            out.append(event)
    return out


def test_nothing_is_allowed_on_a_cancelled_job():
    assert allowed_actions(FieldJob("wo-1"), assignment(cancelled=True)) == ()


def test_completion_summarises_labour_and_travel_logged():
    job = run(
        c.Acknowledge(),
        c.StartTravel(),
        c.LogTime(kind="travel", minutes=25),
        c.Arrive(),
        c.StartWork(),
        c.LogTime(kind="labour", minutes=45),
        c.LogTime(kind="labour", minutes=30),
    )
    events = decide(job, assignment(), act(DONE))
    [completed] = events
    assert isinstance(completed, JobCompleted)
    assert (completed.labour_minutes, completed.travel_minutes) == (75, 25)


def test_on_the_way_the_eta_can_be_revised_without_moving_the_status():
    job = run(c.Acknowledge(), c.StartTravel(eta=T0 + timedelta(minutes=30)))
    later = T0 + timedelta(minutes=55)
    [event] = decide(job, assignment(), act(c.ReviseEta(eta=later)))
    assert isinstance(event, EtaRevised)
    after = evolve(job, event)
    assert (after.status, after.eta) == (FieldStatus.EN_ROUTE, later)
    assert after.status_history == job.status_history, "a new ETA is not a new status"


@pytest.mark.parametrize("before", [(), (c.Acknowledge(),), TO_WORK])
def test_an_eta_is_revised_only_while_on_the_way(before):
    job = run(*before)
    with pytest.raises(ActionRefusedError, match="cannot revise_eta"):
        decide(job, assignment(), act(c.ReviseEta(eta=T0 + timedelta(minutes=5))))
