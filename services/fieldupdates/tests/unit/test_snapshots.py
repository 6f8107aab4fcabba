"""A job's snapshot plus the events after it is the job the whole stream folds to (hypothesis).

Any sequence of the job's events, a snapshot at any point of it, taken under any visit
start, written through the codec to JSON and read back, then loaded under any visit start
now in force: the same job, and the same view of it, as a full fold under that visit start.
"""

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta

from fastapi.encoders import jsonable_encoder
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jobstream.contracts.common import PartSpec
from jobstream.contracts.field import (
    AttachmentAdded,
    AttachmentKind,
    ChecklistAnswer,
    ChecklistItemAnswered,
    DeviceActionRejected,
    EtaRevised,
    HoldReason,
    IncompleteReason,
    JobAcknowledged,
    JobCompleted,
    JobIncomplete,
    JobPutOnHold,
    JobReopened,
    JobResumed,
    JobStarted,
    MaterialUsageCorrected,
    MaterialUsed,
    NoteAdded,
    PartsRequested,
    RejectedActionApplied,
    RejectedActionDiscarded,
    SignatureCaptured,
    TechnicianArrived,
    TimeKind,
    TimeLogged,
    TravelStarted,
)
from jobstream.fieldupdates.api.views import job_view
from jobstream.fieldupdates.db.snapshots import EVENT_SINGLES, EVENT_TUPLES, JobCodec
from jobstream.fieldupdates.domain.state import (
    FieldJob,
    FieldStatus,
    VisitFold,
    fold,
    resume,
    start_visit,
    step,
)

from .factories import CHECKLIST, assignment

WO = "wo-1"
CODEC = JobCodec()
T0 = datetime(2026, 11, 23, 8, tzinfo=UTC)
times = st.integers(0, 10**12).map(lambda us: T0 + timedelta(microseconds=us))
ids = st.sampled_from(["a-1", "a-2", "e-3", "x.4"])
texts = st.text(min_size=1, max_size=12)


def on_device(cls, **values):
    """An event done on the device, by one of two technicians."""
    return st.builds(
        cls,
        work_order_id=st.just(WO),
        technician_id=st.sampled_from(["t1", "t2"]),
        action_id=st.one_of(st.none(), ids),
        device_time=times,
        received_at=times,
        **values,
    )


def by_office(cls, **values):
    return st.builds(cls, work_order_id=st.just(WO), technician_id=st.just("t1"), **values)


JOB = {"customer_id": st.just("c-1"), "job_type": st.just("boiler"), "priority": st.just("P2")}
answers = st.one_of(
    st.builds(ChecklistAnswer, answer_type=st.just("yes_no"), yes_no=st.booleans()),
    st.builds(
        ChecklistAnswer,
        answer_type=st.just("number"),
        number=st.floats(-1e6, 1e6, allow_nan=False),
        unit=st.just("ppm"),
    ),
    st.builds(ChecklistAnswer, answer_type=st.just("text"), text=texts),
    st.builds(ChecklistAnswer, answer_type=st.just("photo"), attachment_id=ids),
)
completions = on_device(
    JobCompleted,
    completed_at=times,
    labour_minutes=st.integers(0, 600),
    work_done=texts,
    first_time_fix=st.booleans(),
    **JOB,
)
reopenings = by_office(JobReopened, reason=texts, reopened_by=st.just("office"), reopened_at=times)
events = st.one_of(
    on_device(JobAcknowledged),
    on_device(TravelStarted, eta=st.one_of(st.none(), times)),
    on_device(EtaRevised, eta=times),
    on_device(TechnicianArrived),
    on_device(JobStarted),
    on_device(JobPutOnHold, reason=st.sampled_from(list(HoldReason)), detail=texts),
    on_device(JobResumed),
    completions,
    on_device(JobIncomplete, ended_at=times, reason=st.sampled_from(list(IncompleteReason)), **JOB),
    reopenings,
    on_device(
        TimeLogged, entry_id=ids, kind=st.sampled_from(list(TimeKind)), minutes=st.integers(1, 90)
    ),
    on_device(
        MaterialUsed,
        entry_id=ids,
        sku=st.just("SKU-1"),
        description=texts,
        quantity_milli=st.integers(1, 5000),
    ),
    by_office(
        MaterialUsageCorrected,
        entry_id=ids,
        quantity_milli=st.integers(0, 5000),
        reason=texts,
        corrected_by=st.just("office"),
        corrected_at=times,
    ),
    on_device(
        PartsRequested,
        request_id=ids,
        parts=st.tuples(
            st.builds(
                PartSpec,
                sku=st.just("SKU-2"),
                description=texts,
                quantity_milli=st.integers(1, 9000),
            )
        ),
    ),
    on_device(
        NoteAdded, note_id=ids, text=texts, carry_forward=st.booleans(), site_id=st.just("s-1")
    ),
    on_device(
        AttachmentAdded,
        attachment_id=ids,
        kind=st.sampled_from(list(AttachmentKind)),
        content_type=st.just("image/jpeg"),
        size_bytes=st.integers(0, 10**9),
        sha256=st.just("ab" * 32),
    ),
    on_device(
        ChecklistItemAnswered,
        template_id=st.just(CHECKLIST.template_id),
        item_id=st.sampled_from([i.item_id for i in CHECKLIST.items]),
        answer=answers,
    ),
    on_device(SignatureCaptured, attachment_id=ids, signer_name=texts, signed_at=times),
    by_office(
        DeviceActionRejected,
        action_id=ids,
        action_type=st.sampled_from(["log_time", "arrive"]),
        reason=texts,
        payload=st.dictionaries(
            st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)), max_size=3
        ),
        device_time=times,
        received_at=times,
    ),
    by_office(
        RejectedActionApplied,
        action_id=ids,
        action_type=st.just("log_time"),
        applied_by=st.just("office"),
        applied_at=times,
    ),
    by_office(
        RejectedActionDiscarded,
        action_id=ids,
        action_type=st.just("arrive"),
        reason=texts,
        discarded_by=st.just("office"),
        discarded_at=times,
    ),
)


@st.composite
def histories(draw):
    """A job's stream, a snapshot point in it, and the two visit starts.

    The snapshot was taken at ``at`` (1 … n) under ``assumed``; ``current`` is the visit
    start in force when it is loaded. Both are any version of the stream (0: the first
    visit), so they fall before, on and after the snapshot point.
    """
    stream = draw(st.lists(events, min_size=1, max_size=30))
    at = draw(st.integers(1, len(stream)))
    versions = st.integers(0, len(stream))
    return stream, at, draw(versions), draw(versions)


def through_codec(folded: VisitFold) -> VisitFold:
    """What a snapshot row gives back: the codec's JSON, as PostgreSQL would return it."""
    return CODEC.load(json.loads(json.dumps(CODEC.dump(folded))))


def snapshot_at(stream, at: int, assumed: int) -> VisitFold:
    folded = VisitFold(FieldJob(WO), assumed)
    for version, event in enumerate(stream[:at], start=1):
        folded = step(folded, version, event)
    return folded


def loaded(stream, at: int, assumed: int, current: int) -> tuple[FieldJob, bool]:
    """The job as handlers.load gets it, and whether the snapshot was used."""
    start = resume(through_codec(snapshot_at(stream, at, assumed)), at, current)
    if start is None:
        return fold(WO, enumerate(stream, start=1), current), False
    for version, event in enumerate(stream[at:], start=at + 1):
        start = step(start, version, event)
    return start.job, True


def view(job: FieldJob) -> str:
    row = {
        "cancel_reason": None,
        "window_start": T0,
        "window_end": T0 + timedelta(hours=2),
        "stream_version": 7,
    }
    body = job_view(row, assignment(CHECKLIST), job, [])
    return json.dumps(jsonable_encoder(body), sort_keys=True)


@settings(max_examples=400, deadline=None)
@given(histories())
def test_snapshot_plus_tail_is_the_full_fold(history):
    stream, at, assumed, current = history
    job, _used = loaded(stream, at, assumed, current)
    full = fold(WO, enumerate(stream, start=1), current)
    assert job == full
    assert view(job) == view(full)


@settings(max_examples=300, deadline=None)
@given(histories())
def test_the_snapshot_is_used_unless_the_visit_start_moved_inside_it(history):
    """A fallback to the full fold only when the visit start moved within what it covers.

    A reassignment after the snapshot's last event (the visit start moving to its version,
    or past it) needs none.
    """
    stream, at, assumed, current = history
    _job, used = loaded(stream, at, assumed, current)

    def inside(start: int) -> bool:
        return 0 < start <= at

    moved_inside = assumed != current and (inside(assumed) or inside(current))
    assert used == (not moved_inside or current == at)


@settings(max_examples=200, deadline=None)
@given(st.lists(events, max_size=30), st.integers(0, 30))
def test_the_codec_gives_back_the_fold_it_was_given(stream, visit):
    folded = snapshot_at(stream, len(stream), visit)
    again = through_codec(folded)
    assert again == folded
    assert view(again.job) == view(folded.job)
    assert CODEC.dump(again) == CODEC.dump(folded)


@settings(max_examples=200, deadline=None)
@given(histories(), st.data())
def test_a_reopened_job_reassigned_after_its_snapshot_folds_the_same(history, data):
    """Completed, reopened, then a new visit started on the snapshot's last version."""
    stream, at, assumed, _current = history
    completed, reopened = data.draw(completions), data.draw(reopenings)
    stream = [*stream[:at], completed, reopened, *stream[at:]]
    at += 2
    assume(assumed < at)
    job, used = loaded(stream, at, assumed, at)
    assert used
    assert job == fold(WO, enumerate(stream, start=1), at)
    if at == len(stream):
        assert job.status is FieldStatus.DISPATCHED
        assert job.reopened[-1] == reopened


def test_the_codec_keeps_every_field_of_the_job():
    dumped = CODEC.dump(VisitFold(FieldJob(WO), 0))
    kept = (set(dumped) - {"events", "visit_started_version"}) | set(dumped["events"])
    assert kept == {f.name for f in fields(FieldJob)}, "bump JobCodec.schema_version too"
    assert set(dumped["events"]) == {*EVENT_TUPLES, *EVENT_SINGLES}


def test_a_new_visit_on_the_snapshot_resets_only_the_visit():
    job = fold(WO, [], 0)
    assert resume(VisitFold(job, 0), 3, 3) == VisitFold(start_visit(job), 3)
    assert resume(VisitFold(job, 2), 3, 1) is None
