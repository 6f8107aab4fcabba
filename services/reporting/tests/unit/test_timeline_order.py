"""A job's timeline is in causal order even when the clocks say otherwise."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from jobstream.reporting.domain.timeline import causal_order

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def event(event_id, at_ms, cause=None, sequence=None, source="jobstream/x"):
    return {
        "event_id": event_id,
        "occurred_at": T0 + timedelta(milliseconds=at_ms),
        "causation_id": cause,
        "sequence": sequence,
        "source": source,
    }


def ids(events):
    return [e["event_id"] for e in events]


def test_events_without_causes_are_in_time_order():
    events = [event("b", 2), event("a", 1), event("c", 3)]
    assert ids(causal_order(events)) == ["a", "b", "c"]


def test_a_reaction_stamped_before_its_cause_comes_after_it():
    # Dispatch plans from the release's business time, a moment before intake stored it.
    events = [
        event("scheduled", 0, cause="released", sequence=1, source="jobstream/dispatch"),
        event("dispatched", 0, cause="released", sequence=2, source="jobstream/dispatch"),
        event("logged", 2, sequence=1, source="jobstream/intake"),
        event("released", 2, sequence=2, source="jobstream/intake"),
    ]
    assert ids(causal_order(events)) == ["logged", "released", "scheduled", "dispatched"]


def test_equal_times_fall_back_to_stream_sequence():
    events = [event("second", 5, sequence=2), event("first", 5, sequence=1)]
    assert ids(causal_order(events)) == ["first", "second"]


def test_a_cause_outside_the_timeline_does_not_hold_its_effect_back():
    events = [event("b", 2), event("a", 1, cause="elsewhere")]
    assert ids(causal_order(events)) == ["a", "b"]


def test_a_causation_cycle_from_bad_data_still_returns_every_event():
    events = [event("a", 1, cause="b"), event("b", 2, cause="a"), event("c", 0)]
    assert sorted(ids(causal_order(events))) == ["a", "b", "c"]


@st.composite
def causal_histories(draw):
    """Events where each may be caused by an earlier-created one, with arbitrary clocks."""
    n = draw(st.integers(1, 12))
    events = []
    for i in range(n):
        cause = draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
        at = draw(st.integers(0, 20))
        events.append(event(f"e{i}", at, cause=f"e{cause}" if cause is not None else None))
    return draw(st.permutations(events))


@given(causal_histories())
def test_every_event_comes_after_its_cause_whatever_the_input_order(events):
    ordered = ids(causal_order(events))
    assert sorted(ordered) == sorted(ids(events))
    place = {event_id: i for i, event_id in enumerate(ordered)}
    for e in events:
        if e["causation_id"]:
            assert place[e["causation_id"]] < place[e["event_id"]]
    # The same set in any input order gives the same timeline.
    assert ordered == ids(causal_order(sorted(events, key=lambda e: e["event_id"])))
