"""Completion: the job sheet must be done, and labour always equals the time entries."""

import pytest

from jobstream.contracts.common import AnswerType
from jobstream.contracts.field import (
    AttachmentKind,
    ChecklistAnswer,
    JobCompleted,
    TimeKind,
    TimeLogged,
)
from jobstream.fieldupdates.domain import commands as c
from jobstream.fieldupdates.domain.decide import ActionRefusedError, decide
from jobstream.fieldupdates.domain.state import FieldJob, evolve

from .factories import CHECKLIST, act, assignment

TO_WORK = (c.Acknowledge(), c.StartTravel(), c.Arrive(), c.StartWork())
PHOTO = c.AddAttachment(
    attachment_id="ph-1",
    kind=AttachmentKind.PHOTO,
    content_type="image/jpeg",
    size_bytes=3,
    sha256="a" * 64,
)


def run(*commands, a=None):
    job = FieldJob("wo-1")
    a = a or assignment(CHECKLIST)
    for command in commands:
        for event in decide(job, a, act(command)):
            job = evolve(job, event)
    return job


def answer(item, **kw):
    return c.AnswerChecklistItem(item_id=item, answer=ChecklistAnswer(**kw))


ALL_REQUIRED = (
    answer("flue", answer_type=AnswerType.NUMBER, number=12.5),
    answer("safe", answer_type=AnswerType.YES_NO, yes_no=True),
    PHOTO,
    answer("photo", answer_type=AnswerType.PHOTO, attachment_id="ph-1"),
)
DONE = c.Complete(work_done="Serviced", first_time_fix=True)


def test_completion_is_refused_naming_the_missing_required_items():
    job = run(*TO_WORK, ALL_REQUIRED[0])
    with pytest.raises(ActionRefusedError) as refused:
        decide(job, assignment(CHECKLIST), act(DONE))
    assert "safe (Appliance safe)" in refused.value.message
    assert "photo (Photo of data plate)" in refused.value.message
    assert "flue" not in refused.value.message
    assert "remarks" not in refused.value.message  # optional


def test_completion_passes_once_every_required_item_is_answered():
    job = run(*TO_WORK, *ALL_REQUIRED)
    [completed] = decide(job, assignment(CHECKLIST), act(DONE))
    assert isinstance(completed, JobCompleted)


def test_a_number_answer_takes_the_items_unit():
    job = run(*TO_WORK, ALL_REQUIRED[0])
    assert job.latest_answers()["flue"].answer.unit == "ppm"


def test_a_number_in_another_unit_is_refused():
    job = run(*TO_WORK)
    bad = answer("flue", answer_type=AnswerType.NUMBER, number=1, unit="%")
    with pytest.raises(ActionRefusedError, match="measured in ppm"):
        decide(job, assignment(CHECKLIST), act(bad))


def test_an_answer_of_the_wrong_type_is_refused():
    job = run(*TO_WORK)
    with pytest.raises(ActionRefusedError, match="takes a yes_no answer"):
        decide(
            job, assignment(CHECKLIST), act(answer("safe", answer_type=AnswerType.TEXT, text="ok"))
        )


def test_a_photo_answer_needs_the_photo_uploaded_first():
    job = run(*TO_WORK)
    with pytest.raises(ActionRefusedError, match="has not been uploaded"):
        decide(
            job,
            assignment(CHECKLIST),
            act(answer("photo", answer_type=AnswerType.PHOTO, attachment_id="ph-9")),
        )


def test_an_unknown_item_is_refused_naming_the_items():
    job = run(*TO_WORK)
    with pytest.raises(ActionRefusedError, match="items: flue, safe, photo, remarks"):
        decide(
            job, assignment(CHECKLIST), act(answer("nope", answer_type=AnswerType.TEXT, text="x"))
        )


def test_stated_labour_without_time_entries_is_logged_first():
    job = run(*TO_WORK, a=assignment())
    events = decide(
        job, assignment(), act(c.Complete(work_done="x", first_time_fix=True, labour_minutes=75))
    )
    assert [type(e) for e in events] == [TimeLogged, JobCompleted]
    assert (events[0].kind, events[0].minutes) == (TimeKind.LABOUR, 75)
    assert events[1].labour_minutes == 75


def test_stated_labour_beyond_the_entries_logs_only_the_balance():
    job = run(*TO_WORK, c.LogTime(kind="labour", minutes=50), a=assignment())
    events = decide(
        job, assignment(), act(c.Complete(work_done="x", first_time_fix=True, labour_minutes=75))
    )
    assert [e.minutes for e in events if isinstance(e, TimeLogged)] == [25]


def test_stated_labour_below_the_entries_is_refused():
    job = run(*TO_WORK, c.LogTime(kind="labour", minutes=90), a=assignment())
    with pytest.raises(ActionRefusedError, match="less than the 90 minutes"):
        decide(
            job,
            assignment(),
            act(c.Complete(work_done="x", first_time_fix=True, labour_minutes=75)),
        )


def test_a_follow_up_needs_its_reason():
    with pytest.raises(ValueError, match="follow_up_reason"):
        c.Complete(work_done="x", first_time_fix=False, follow_up_needed=True)


def test_a_bought_in_material_needs_its_unit_cost():
    with pytest.raises(ValueError, match="unit_cost_minor"):
        c.UseMaterial(sku="X1", description="Valve", quantity_milli=1000, source="bought_in")


def test_time_from_a_start_stop_pair():
    from datetime import timedelta

    from .factories import T0

    entry = c.LogTime(kind="labour", started_at=T0, ended_at=T0 + timedelta(minutes=42))
    assert entry.duration == 42
