"""SLA deadlines: examples across DST changes, and properties checked against the clock.

The properties range over priorities, contracts, time zones and business hours, and are
checked against a minute-by-minute count of the site's clock.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobstream.contracts.common import Priority
from jobstream.intake.domain.sla import (
    STANDARD_TERMS,
    BusinessHours,
    OpeningWindow,
    SlaError,
    SlaTerms,
    Targets,
    add_covered_time,
    covered_time_between,
    deadlines,
    terms_from_record,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_8_TO_6 = BusinessHours({d: OpeningWindow(8 * 60, 18 * 60) for d in range(1, 6)})


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


# -- examples ---------------------------------------------------------------------------


def test_round_the_clock_targets_are_elapsed_time_even_across_a_dst_change():
    # London springs forward at 01:00 UTC on Sunday 29 March 2026.
    logged = local(LONDON, 2026, 3, 28, 22, 0)
    respond, resolve = deadlines(STANDARD_TERMS, Priority.P2, logged, LONDON)
    assert respond - logged == timedelta(hours=4)
    assert resolve - logged == timedelta(hours=24)
    # The wall clock moved an hour: 22:00 GMT + 24 h is 23:00 BST.
    assert resolve.astimezone(LONDON).hour == 23


def test_business_hours_carry_over_the_weekend_to_monday_morning():
    terms = SlaTerms(
        {p: Targets(timedelta(hours=2), timedelta(hours=8)) for p in Priority}, WEEKDAYS_8_TO_6
    )
    logged = local(LONDON, 2026, 11, 20, 17, 0)  # Friday 17:00: one open hour left
    respond, resolve = deadlines(terms, Priority.P1, logged, LONDON)
    assert respond.astimezone(LONDON) == local(LONDON, 2026, 11, 23, 9, 0)  # Monday 09:00
    assert resolve.astimezone(LONDON) == local(LONDON, 2026, 11, 23, 15, 0)


def test_a_request_logged_before_opening_starts_counting_at_opening():
    logged = local(NEW_YORK, 2026, 11, 24, 6, 30)
    due = add_covered_time(logged, timedelta(hours=1), WEEKDAYS_8_TO_6, NEW_YORK)
    assert due.astimezone(NEW_YORK) == local(NEW_YORK, 2026, 11, 24, 9, 0)


def test_business_hours_across_the_autumn_change_keep_local_opening_times():
    # New York falls back on Sunday 1 November 2026; Friday 16:00 + 4 business hours is
    # Monday 10:00 local, which is 15:00 UTC (it was 20:00 UTC on Friday = 16:00 EDT).
    logged = local(NEW_YORK, 2026, 10, 30, 16, 0)
    due = add_covered_time(logged, timedelta(hours=4), WEEKDAYS_8_TO_6, NEW_YORK)
    assert due.astimezone(NEW_YORK) == local(NEW_YORK, 2026, 11, 2, 10, 0)
    assert due == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_the_hour_skipped_in_spring_is_never_open():
    # Open every day 00:00-03:00; on 29 March 2026 London skips 01:00-02:00.
    hours = BusinessHours({d: OpeningWindow(0, 180) for d in range(1, 8)})
    start = local(LONDON, 2026, 3, 29, 0, 0)
    end = local(LONDON, 2026, 3, 29, 12, 0)
    assert covered_time_between(start, end, hours, LONDON) == timedelta(hours=2)


def test_the_hour_repeated_in_autumn_is_open_twice():
    # Open every day 00:00-03:00; on 25 October 2026 London repeats 01:00-02:00.
    hours = BusinessHours({d: OpeningWindow(0, 180) for d in range(1, 8)})
    start = local(LONDON, 2026, 10, 25, 0, 0)
    end = local(LONDON, 2026, 10, 25, 12, 0)
    assert covered_time_between(start, end, hours, LONDON) == timedelta(hours=4)


def test_holidays_are_closed():
    hours = BusinessHours(WEEKDAYS_8_TO_6.weekly, frozenset({date(2026, 12, 25)}))
    logged = local(LONDON, 2026, 12, 24, 17, 0)
    due = add_covered_time(logged, timedelta(hours=2), hours, LONDON)
    assert due.astimezone(LONDON) == local(LONDON, 2026, 12, 28, 9, 0)


def test_contract_terms_are_read_from_the_stored_shape():
    terms = terms_from_record(
        {p.value: {"respond_minutes": 60, "resolve_minutes": 240} for p in Priority},
        {"1": {"open": "08:00", "close": "24:00"}},
        ["2026-12-25"],
    )
    assert terms.hours is not None
    assert terms.hours.weekly[1] == OpeningWindow(480, 1440)
    assert terms.targets[Priority.P3] == Targets(timedelta(hours=1), timedelta(hours=4))


@pytest.mark.parametrize(
    ("targets", "hours", "message"),
    [
        ({"P1": {"respond_minutes": 60, "resolve_minutes": 240}}, None, "missing"),
        (
            {p.value: {"respond_minutes": 60, "resolve_minutes": 30} for p in Priority},
            None,
            "shorter",
        ),
        (
            {p.value: {"respond_minutes": 60, "resolve_minutes": 90} for p in Priority},
            {"1": {"open": "18:00", "close": "08:00"}},
            "open before it closes",
        ),
        (
            {p.value: {"respond_minutes": 60, "resolve_minutes": 90} for p in Priority},
            {"1": {"open": "25:00", "close": "26:00"}},
            "time of day",
        ),
    ],
)
def test_bad_contract_terms_are_refused(targets, hours, message):
    with pytest.raises(SlaError, match=message):
        terms_from_record(targets, hours)


# -- properties -------------------------------------------------------------------------

ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",  # southern hemisphere: DST in the other half of the year
    "America/Santiago",  # DST changes at midnight
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Asia/Kolkata",  # +05:30, no DST
    "Pacific/Chatham",  # +12:45 with DST
    "UTC",
]
# Instants of DST changes in 2026, where bugs live; starts are drawn around them too.
TRANSITIONS = [
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York spring
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # London spring
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe autumn
    datetime(2026, 4, 4, 16, 0, tzinfo=UTC),  # Sydney autumn
    datetime(2026, 9, 6, 4, 0, tzinfo=UTC),  # Santiago spring (00:00 → 01:00)
    datetime(2026, 9, 26, 14, 45, tzinfo=UTC),  # Chatham spring
    datetime(2026, 10, 3, 16, 0, tzinfo=UTC),  # Sydney spring
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # London autumn
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York autumn
]

starts = st.one_of(
    st.builds(
        lambda t, minutes: t + timedelta(minutes=minutes),
        st.sampled_from(TRANSITIONS),
        st.integers(-3 * 24 * 60, 3 * 24 * 60),
    ),
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ).map(lambda d: d.replace(second=0, microsecond=0)),
)


@st.composite
def opening_windows(draw: st.DrawFn) -> OpeningWindow:
    # Quarter hours, at least two hours open (keeps the minute-count oracle quick).
    open_q = draw(st.integers(0, 88))
    close_q = draw(st.integers(open_q + 8, 96))
    return OpeningWindow(open_q * 15, close_q * 15)


@st.composite
def business_hours(draw: st.DrawFn) -> BusinessHours:
    days = draw(st.sets(st.integers(1, 7), min_size=3, max_size=7))
    return BusinessHours({day: draw(opening_windows()) for day in sorted(days)})


@st.composite
def sla_terms(draw: st.DrawFn) -> SlaTerms:
    hours = draw(st.one_of(st.none(), business_hours()))
    targets = {}
    for priority in Priority:
        respond = draw(st.integers(15, 24 * 60))
        resolve = draw(st.integers(respond, 2 * 24 * 60))
        targets[priority] = Targets(timedelta(minutes=respond), timedelta(minutes=resolve))
    return SlaTerms(targets, hours)


def open_minutes(start: datetime, end: datetime, hours: BusinessHours, zone: ZoneInfo) -> int:
    """The oracle: step through real time a minute at a time and ask the site's clock."""
    count = 0
    at = start
    while at < end:
        wall = at.astimezone(zone)
        window = hours.window_on(wall.date())
        if window and window.open_minute <= wall.hour * 60 + wall.minute < window.close_minute:
            count += 1
        at += timedelta(minutes=1)
    return count


PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(
    terms=sla_terms(),
    priority=st.sampled_from(list(Priority)),
    start=starts,
    zone=st.sampled_from(ZONES),
)
def test_deadlines_count_exactly_the_target_of_covered_time(terms, priority, start, zone):
    tz = ZoneInfo(zone)
    respond, resolve = deadlines(terms, priority, start, tz)
    target = terms.targets[priority]
    assert start <= respond <= resolve
    if terms.hours is None:
        assert (respond - start, resolve - start) == (target.respond, target.resolve)
        return
    for deadline, amount in ((respond, target.respond), (resolve, target.resolve)):
        assert open_minutes(start, deadline, terms.hours, tz) == amount // timedelta(minutes=1)
        # The deadline is the first moment the target is reached: the minute before it is open.
        assert open_minutes(deadline - timedelta(minutes=1), deadline, terms.hours, tz) == 1


@PROPERTY_SETTINGS
@given(terms=sla_terms(), start=starts, zone=st.sampled_from(ZONES))
def test_a_longer_target_never_gives_an_earlier_deadline(terms, start, zone):
    tz = ZoneInfo(zone)
    ordered = sorted(Priority, key=lambda p: terms.targets[p].resolve)
    resolved = [deadlines(terms, p, start, tz)[1] for p in ordered]
    assert resolved == sorted(resolved)


@PROPERTY_SETTINGS
@given(
    hours=business_hours(),
    start=starts,
    zone=st.sampled_from(ZONES),
    first=st.integers(0, 24 * 60),
    second=st.integers(0, 24 * 60),
)
def test_adding_covered_time_in_two_steps_equals_adding_it_at_once(
    hours, start, zone, first, second
):
    tz = ZoneInfo(zone)
    a, b = timedelta(minutes=first), timedelta(minutes=second)
    once = add_covered_time(start, a + b, hours, tz)
    twice = add_covered_time(add_covered_time(start, a, hours, tz), b, hours, tz)
    assert once == twice
    assert covered_time_between(start, once, hours, tz) == a + b
