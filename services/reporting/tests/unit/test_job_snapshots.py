"""A job's snapshot plus the events after it is the full fold of all its events (hypothesis).

The projector folds a batch's new events onto a job's snapshot only when they go on the end
of the job's causal order, and refolds the job from its log otherwise (projections.py,
docs/adr/0083). Whatever events a job has (reopened, reassigned to another technician,
reactions stamped before their causes, causes outside the timeline, now and then a
causation cycle from bad data), however they are delivered (out of order, duplicated, in
batches of any size), the facts kept after each batch are those the full fold of every
event logged so far gives, in the same key order, and so are the rows they make.
"""

import copy
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from jobstream.contracts.field import JobReopened
from jobstream.messaging.envelope import Envelope
from jobstream.reporting.domain.jobs import new_job
from jobstream.reporting.domain.timeline import Position, appended, position_of
from jobstream.reporting.projections import (
    FACTS_SCHEMA,
    belongs_to_jobs,
    fold_job,
    fold_job_at,
    job_rows,
    log_values,
    onto_snapshots,
    snapshot_row,
)
from jobstream.testing.builders import JobStory

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WO = "wo-snapshots"
TECH_A, TECH_B = "tech-a", "tech-b"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def story_events() -> list:
    """One job from logging to a second visit: done by A, reopened, reassigned to B."""
    a = JobStory(work_order_id=WO, technician_id=TECH_A, start=T0)
    b = JobStory(work_order_id=WO, technician_id=TECH_B, start=T0)
    return [
        a.technician_registered(),
        a.request_logged(),
        a.released(),
        a.scheduled_at(at(10)),
        a.arrived(at(40)),
        a.started(at(45)),
        a.labour_logged(at(45), 60),
        a.material_used_at(at(50), "VALVE-15", 2000),
        a.material_corrected(at(55), 1500),
        a.completed_at(at(100), labour_minutes=60),
        a.invoiced_at(at(110), 10_000, technician_id=TECH_A, number=1),
        JobReopened(
            work_order_id=WO,
            technician_id=TECH_A,
            reason="The fault came back",
            reopened_by="office",
            reopened_at=at(300),
        ),
        b.scheduled_at(at(310)),
        b.arrived(at(400)),
        b.labour_logged(at(400), 30, entry="t2"),
        b.material_used_at(at(405), "PUMP-CIRC", 1000, entry="m2"),
        b.incomplete(at(430), labour_minutes=30),
        b.arrived(at(1500)),
        b.completed_at(at(1560), labour_minutes=40, first_time_fix=False),
        a.credited_at(at(1600), 10_000),
        b.invoiced_at(at(1610), 12_000, technician_id=TECH_B, number=2),
    ]


# Each event of the story as the log keeps it (log_values), built once.
STORY = [
    log_values(Envelope.new(event, source="jobstream/test", event_id=f"e{i}"))
    for i, event in enumerate(story_events())
]


@st.composite
def job_histories(draw):
    """Some of the story's events with arbitrary clocks, sequences and causes, as log rows.

    A cause is an earlier event of the story (so a reaction may be stamped before it), an
    id the log never holds, or none; now and then one event names a later one (a cycle
    when that one's chain leads back).
    """
    keep = draw(st.lists(st.booleans(), min_size=len(STORY), max_size=len(STORY)))
    chosen = [i for i, kept in enumerate(keep) if kept] or [1]
    # Clocks that rise with the story (ties among them) or that say anything at all.
    rising = draw(st.booleans())
    rows = []
    for n, i in enumerate(chosen):
        row = {**STORY[i], "data": copy.deepcopy(STORY[i]["data"])}
        row["occurred_at"] = at(n + draw(st.integers(0, 1)) if rising else draw(st.integers(0, 40)))
        row["sequence"] = draw(st.one_of(st.none(), st.integers(1, 3)))
        earlier = [f"e{j}" for j in chosen[:n]]
        options = [st.none(), st.just("elsewhere")]
        if earlier:
            options.append(st.sampled_from(earlier))
        row["causation_id"] = draw(st.one_of(*options))
        rows.append(row)
    if len(rows) > 1 and draw(st.integers(0, 9)) == 0:
        effect, cause = draw(st.permutations(range(len(rows))))[:2]
        rows[effect]["causation_id"] = rows[cause]["event_id"]
    return rows


@st.composite
def deliveries(draw):
    """A job's events, and the batches they arrive in: shuffled or not, some twice, any sizes."""
    events = draw(job_histories())
    again = draw(st.lists(st.sampled_from(events), max_size=4))
    arriving = [*events, *again]
    if draw(st.booleans()):
        arriving = draw(st.permutations(arriving))
    cuts = sorted(draw(st.lists(st.integers(1, len(arriving)), max_size=len(arriving))))
    batches, start = [], 0
    for cut in [*cuts, len(arriving)]:
        if cut > start:
            batches.append(arriving[start:cut])
            start = cut
    return events, batches


class Projector:
    """project_batch's steps for jobs, on a log and snapshot table kept in memory."""

    def __init__(self) -> None:
        self.log: dict[str, dict] = {}
        self.snapshots: dict[str, tuple[str, dict | None]] = {}
        self.refolded: list[str] = []

    def job_events(self, work_order_id: str) -> list[dict]:
        return [
            e for e in self.log.values() if e["subject"] == work_order_id and belongs_to_jobs(e)
        ]

    def apply(self, batch: list[dict]) -> None:
        first: dict[str, dict] = {}
        for row in batch:
            first.setdefault(row["event_id"], row)
        causes = {c for r in first.values() if (c := r["causation_id"])}
        held = {i: self.log[i] for i in [*first, *causes] if i in self.log}
        fresh = [r for i, r in first.items() if i not in held]
        new_by_job = defaultdict(list)
        for row in fresh:
            if belongs_to_jobs(row):
                new_by_job[row["subject"]].append(row)
        kept = {wo: self.snapshots[wo] for wo in new_by_job if wo in self.snapshots}
        folded, refold_ids = onto_snapshots(new_by_job, kept, held)
        self.log.update((r["event_id"], r) for r in fresh)
        folded += [fold_job_at(wo, self.job_events(wo)) for wo in refold_ids]
        self.refolded += refold_ids
        for job in folded:
            row = snapshot_row(job)
            # The position goes through JSONB, which reorders keys; the facts are text.
            position = json.loads(json.dumps(row["position"], sort_keys=True))
            self.snapshots[row["work_order_id"]] = (row["facts"], position)


def kept_facts(projector: Projector, work_order_id: str) -> dict:
    return json.loads(projector.snapshots[work_order_id][0])


@settings(max_examples=300, deadline=None)
@given(deliveries())
def test_folding_batch_by_batch_onto_the_snapshot_is_the_full_fold(delivery):
    events, batches = delivery
    projector = Projector()
    for batch in batches:
        projector.apply(batch)
        logged = projector.job_events(WO)
        if not logged:
            assert WO not in projector.snapshots
            continue
        full = fold_job(WO, logged)
        facts = kept_facts(projector, WO)
        # The same facts with their keys in the same order: the rows follow that order.
        assert json.dumps(facts) == json.dumps(full)
        assert job_rows([facts]) == job_rows([full])
        position = projector.snapshots[WO][1]
        expected = position_of(logged)
        assert position == (expected.as_json() if expected is not None else None)
    assert {e["event_id"] for e in projector.log.values()} == {e["event_id"] for e in events}


def in_causal_order() -> list[dict]:
    """The story's job events one minute apart, each caused by the one before."""
    rows = []
    for n, row in enumerate(r for r in STORY if belongs_to_jobs(r)):
        rows.append(
            {
                **row,
                "occurred_at": at(n),
                "sequence": None,
                "causation_id": rows[-1]["event_id"] if rows else None,
            }
        )
    return rows


def test_events_arriving_in_order_fold_onto_the_snapshot_without_a_refold():
    projector = Projector()
    rows = in_causal_order()
    for row in rows:
        projector.apply([row])
    assert projector.refolded == [WO]  # the first event only: there was no snapshot yet
    assert json.dumps(kept_facts(projector, WO)) == json.dumps(fold_job(WO, rows))


def test_a_cause_arriving_after_its_effect_refolds_the_job():
    projector = Projector()
    rows = in_causal_order()
    late_cause, *others = rows[3:6]
    projector.apply(rows[:3])
    # Their cause is not logged yet, so nothing says they are out of place: folded on.
    projector.apply(others)
    assert projector.refolded == [WO]
    projector.apply([late_cause])
    assert projector.refolded == [WO, WO]
    assert json.dumps(kept_facts(projector, WO)) == json.dumps(fold_job(WO, rows[:6]))


# ---------------------------------------------------------------------------------------
# position_of and appended


def event(event_id, minute, cause=None, sequence=None):
    return {
        "event_id": event_id,
        "occurred_at": at(minute),
        "causation_id": cause,
        "sequence": sequence,
    }


def ids(events):
    return [e["event_id"] for e in events]


def test_the_position_is_the_greatest_sort_key_and_the_causes_not_folded():
    position = position_of([event("a", 1), event("b", 2, cause="elsewhere"), event("c", 0)])
    assert position == Position(
        ((at(2) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1), 0, "b"),
        frozenset({"elsewhere"}),
    )
    assert Position.from_json(json.loads(json.dumps(position.as_json()))) == position


def test_no_events_stand_nowhere_and_anything_goes_on_the_end():
    assert position_of([]) == Position()
    found = appended(Position(), [event("b", 2), event("a", 1)], set())
    assert found is not None and ids(found[0]) == ["a", "b"]


def test_a_causation_cycle_has_no_position():
    assert position_of([event("a", 1, cause="b"), event("b", 2, cause="a")]) is None
    # Also when the cycle holds an event back that sorts first.
    assert position_of([event("x", 0, cause="y"), event("y", 5, cause="x"), event("z", 3)]) is None


def test_an_event_caused_by_itself_is_no_cycle():
    assert position_of([event("a", 1, cause="a")]) == position_of([event("a", 1)])


def test_later_events_go_on_the_end_sorted():
    position = position_of([event("a", 1), event("b", 2, cause="a")])
    found = appended(position, [event("d", 4, cause="c"), event("c", 3, cause="b")], {"b"})
    assert found is not None
    ordered, after = found
    assert ids(ordered) == ["c", "d"]
    assert after == position_of(
        [event("a", 1), event("b", 2, cause="a"), event("c", 3, cause="b"), event("d", 4, "c")]
    )


def test_an_event_that_sorts_before_the_last_folded_does_not_go_on_the_end():
    position = position_of([event("a", 1), event("b", 5)])
    assert appended(position, [event("c", 3)], set()) is None
    # The same time as the last folded, a lower stream sequence: it sorts before it.
    position = position_of([event("a", 5, sequence=2)])
    assert appended(position, [event("z", 5, sequence=1)], set()) is None


def test_a_cause_arriving_after_its_effect_does_not_go_on_the_end():
    # The effect is folded; its cause comes later, though stamped after it.
    position = position_of([event("a", 1), event("effect", 2, cause="cause")])
    assert position is not None and "cause" in position.pending
    assert appended(position, [event("cause", 3)], set()) is None


def test_a_cause_later_in_the_same_batch_than_its_effect_does_not_go_on_the_end():
    position = position_of([event("a", 1)])
    # Sorted, the effect (3) comes before its cause (4): the timeline puts the cause first.
    assert appended(position, [event("cause", 4), event("effect", 3, cause="cause")], set()) is None


def test_a_reaction_stamped_before_its_folded_cause_does_not_go_on_the_end():
    # ADR 0005: a reaction carries its cause's business time, which may be earlier.
    position = position_of([event("completed", 10)])
    assert appended(position, [event("invoiced", 9, cause="completed")], {"completed"}) is None


def test_a_cause_met_in_the_batch_is_no_longer_pending():
    position = position_of([event("a", 1, cause="b")])
    assert position is not None and position.pending == {"b"}
    assert appended(position, [event("b", 2)], set()) is None  # b must precede a
    found = appended(position_of([event("a", 1)]), [event("b", 2), event("c", 3, "b")], set())
    assert found is not None and found[1].pending == frozenset()


def test_the_snapshot_keeps_the_facts_of_this_schema():
    """A key added to a job's facts needs FACTS_SCHEMA bumped: old rows would lack it."""
    assert (FACTS_SCHEMA, sorted(new_job(WO))) == (1, FACTS_KEYS), "bump FACTS_SCHEMA too"


FACTS_KEYS = sorted(
    [
        "work_order_id",
        "status",
        "last_event_type",
        "updated_at",
        "event_count",
        "customer_id",
        "customer_name",
        "site_id",
        "asset_id",
        "job_type",
        "channel",
        "description",
        "follow_up_of",
        "maintenance_plan_id",
        "logged_at",
        "priority",
        "priorities",
        "deadlines",
        "released_at",
        "approval",
        "technician_id",
        "scheduled_at",
        "dispatched_at",
        "scheduling_failures",
        "arrivals",
        "started_at",
        "incompletes",
        "closures",
        "completion",
        "labour",
        "materials",
        "invoices",
        "credits",
        "paid_at",
        "cancelled_at",
        "rating",
        "last_event_at",
    ]
)
