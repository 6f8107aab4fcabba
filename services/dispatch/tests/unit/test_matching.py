"""Skeleton matching: only qualified technicians, least loaded then nearest."""

from datetime import UTC, datetime

from jobstream.contracts.common import GeoPoint
from jobstream.dispatch.domain.matching import Technician, choose_technician, great_circle_km

MANCHESTER = GeoPoint(lat=53.4808, lon=-2.2426)
LIVERPOOL = GeoPoint(lat=53.4084, lon=-2.9916)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def tech(tid, skills, certs=(), at=MANCHESTER, open_jobs=0):
    return Technician(tid, frozenset(skills), frozenset(certs), at, open_jobs)


def choose(techs, skills=("gas_boiler",), certs=("gas_safe",)):
    return choose_technician(
        techs,
        site=MANCHESTER,
        skills=skills,
        certifications=certs,
        duration_minutes=60,
        not_before=NOW,
    )


def test_nobody_qualified_gives_no_assignment():
    assert choose([tech("t1", ["gas_boiler"]), tech("t2", ["plumbing"], ["gas_safe"])]) is None


def test_a_missing_certification_excludes_a_technician():
    chosen = choose(
        [tech("t1", ["gas_boiler"]), tech("t2", ["gas_boiler"], ["gas_safe"], LIVERPOOL)]
    )
    assert chosen is not None and chosen.technician_id == "t2"


def test_least_loaded_then_nearest():
    techs = [
        tech("busy", ["gas_boiler"], ["gas_safe"], MANCHESTER, open_jobs=3),
        tech("far", ["gas_boiler"], ["gas_safe"], LIVERPOOL),
        tech("near", ["gas_boiler"], ["gas_safe"], MANCHESTER),
    ]
    chosen = choose(techs)
    assert chosen is not None
    assert chosen.technician_id == "near"
    assert chosen.travel_minutes == 0
    assert chosen.reasons


def test_travel_time_follows_distance():
    chosen = choose([tech("far", ["gas_boiler"], ["gas_safe"], LIVERPOOL)])
    km = great_circle_km(LIVERPOOL, MANCHESTER)
    assert 45 < km < 55
    assert chosen is not None
    assert chosen.travel_minutes == round(km * 1.3 / 40 * 60 + 0.5)
    assert chosen.window_start > NOW
