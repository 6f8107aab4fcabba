"""The technician aggregate and when a technician can work."""

from datetime import UTC, date, datetime, time

import pytest

from jobstream.contracts.common import Certification, GeoPoint, SkillLevel
from jobstream.contracts.dispatch import (
    Shift,
    TechnicianAbsenceCancelled,
    TechnicianAbsenceRecorded,
    TechnicianProfile,
    TechnicianProfileUpdated,
)
from jobstream.dispatch.domain.technicians import (
    Absence,
    Technician,
    decide_cancel_absence,
    decide_record_absence,
    decide_register,
    decide_update_profile,
    evolve,
    working_periods,
)
from jobstream.errors import ConflictError, InvalidInputError

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # a Monday


def profile(**changes):
    base = {
        "name": "Amir",
        "skills": (SkillLevel(name="gas_boiler", level=4),),
        "certifications": (Certification(name="gas_safe", expires_on=date(2027, 1, 1)),),
        "home_base": GeoPoint(lat=53.46, lon=-2.29),
        "time_zone": "Europe/London",
        "shifts": tuple(Shift(weekday=d, start=time(8), end=time(17)) for d in range(5)),
    }
    return TechnicianProfile(**{**base, **changes})


def registered() -> Technician:
    state = Technician("tech-amir")
    for e in decide_register(state, profile(), NOW):
        state = evolve(state, e)
    return state


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_registering_twice_is_a_conflict():
    with pytest.raises(ConflictError) as err:
        decide_register(registered(), profile(), NOW)
    assert isinstance(err.value, ConflictError)


def test_an_unknown_time_zone_is_refused_naming_the_field():
    with pytest.raises(InvalidInputError) as err:
        decide_register(Technician("t"), profile(time_zone="Mars/Olympus"), NOW)
    assert err.value.field == "time_zone"


def test_a_profile_update_names_what_changed_and_nothing_changes_nothing():
    state = registered()
    [event] = decide_update_profile(state, profile(overtime_allowed=True), "office", NOW)
    assert isinstance(event, TechnicianProfileUpdated)
    assert event.changed_fields == ("overtime_allowed",)
    assert decide_update_profile(state, profile(), "office", NOW) == []


def test_absences_are_recorded_and_cancelled():
    state = registered()
    [recorded] = decide_record_absence(state, "a1", utc(24, 0), utc(25, 0), "Sick", "office", NOW)
    assert isinstance(recorded, TechnicianAbsenceRecorded)
    state = evolve(state, recorded)
    with pytest.raises(ConflictError):
        decide_record_absence(state, "a1", utc(24, 0), utc(25, 0), "Sick", "office", NOW)
    [cancelled] = decide_cancel_absence(state, "a1", "office", NOW)
    assert isinstance(cancelled, TechnicianAbsenceCancelled)
    assert evolve(state, cancelled).absences == {}


def test_shifts_are_local_time_so_winter_london_is_utc():
    [monday] = working_periods(profile(), [], utc(23, 0), utc(23, 23, 59))
    assert (monday.start, monday.end) == (utc(23, 8), utc(23, 17))
    assert monday.local_date == date(2026, 11, 23)


def test_summer_time_moves_the_shift_an_hour_in_utc():
    start = datetime(2026, 7, 6, 0, tzinfo=UTC)  # a Monday in British Summer Time
    [monday] = working_periods(profile(), [], start, start.replace(hour=23))
    assert monday.start == datetime(2026, 7, 6, 7, tzinfo=UTC)


def test_an_absence_cuts_a_shift_in_two():
    absence = Absence("a1", utc(23, 11), utc(23, 13), "Dentist")
    periods = working_periods(profile(), [absence], utc(23, 0), utc(23, 23))
    assert [(p.start, p.end) for p in periods] == [
        (utc(23, 8), utc(23, 11)),
        (utc(23, 13), utc(23, 17)),
    ]


def test_overtime_extends_the_shift_but_never_into_an_absence():
    p = profile(overtime_allowed=True, max_overtime_minutes=60)
    [free] = working_periods(p, [], utc(23, 0), utc(23, 23))
    assert free.overtime_end == utc(23, 18)
    evening = Absence("a1", utc(23, 17, 30), utc(23, 22), "Training")
    [cut] = working_periods(p, [evening], utc(23, 0), utc(23, 23))
    assert (cut.end, cut.overtime_end) == (utc(23, 17), utc(23, 17, 30))


def test_no_shifts_or_inactive_means_no_working_time():
    assert working_periods(profile(shifts=()), [], utc(23, 0), utc(30, 0)) == []
    assert working_periods(profile(active=False), [], utc(23, 0), utc(30, 0)) == []


def test_a_round_the_clock_rota_gives_one_period_per_local_day():
    on_call = tuple(Shift(weekday=d, start=time(0), end=time(23, 59)) for d in range(7))
    periods = working_periods(profile(shifts=on_call, time_zone="UTC"), [], utc(23, 0), utc(26, 0))
    assert [p.local_date.day for p in periods] == [23, 24, 25]
