"""Small builders for engine tests: a day in Manchester in whole minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from jobstream.dispatch.domain.plan import Crew, JobSpec, Period, Plan, Visit, to_minutes
from jobstream.dispatch.domain.travel import GreatCircleTravel, Place

TRAVEL = GreatCircleTravel(road_factor=1.3, speed_kmh=40)
DAY = date(2026, 11, 23)
MANCHESTER = Place("manchester", 53.4808, -2.2426)
SALFORD = Place("salford", 53.4839, -2.2707)
STOCKPORT = Place("stockport", 53.4084, -2.1575)
LIVERPOOL = Place("liverpool", 53.4084, -2.9916)


def at(hour: int, minute: int = 0, day: date = DAY) -> int:
    return to_minutes(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC))


def crew(
    tid,
    skills=("gas_boiler",),
    certs=None,
    home=MANCHESTER,
    start=8,
    end=17,
    days=(DAY,),
    overtime=0,
    **policy: Any,
):
    """A technician; ``policy``: Crew's drive_home, time_zone or absences."""
    certs = {"gas_safe": date(2030, 1, 1)} if certs is None else certs
    periods = tuple(
        Period(at(start, day=d), at(end, day=d), at(end, day=d) + overtime, d, home) for d in days
    )
    return Crew(tid, home, frozenset(skills), certs, periods, **policy)


@dataclass(frozen=True)
class Asked:
    """What a test job asks for; times are plan minutes (release defaults to 08:00)."""

    place: Place = MANCHESTER
    priority: int = 3
    duration: int = 60
    release: int | None = None
    respond: int | None = None
    resolve: int | None = None
    window: tuple[int, int] | None = None
    skills: tuple[str, ...] = ("gas_boiler",)
    certs: tuple[str, ...] = ("gas_safe",)
    site: str | None = None


def job(jid: str, **asked: Any) -> JobSpec:
    a = Asked(**asked)
    release = at(8) if a.release is None else a.release
    return JobSpec(
        job_id=jid,
        place=a.place,
        site_id=a.site or f"site-{jid}",
        duration=a.duration,
        priority=a.priority,
        release=release,
        respond_by=a.respond if a.respond is not None else release + 24 * 60,
        resolve_by=a.resolve if a.resolve is not None else release + 3 * 24 * 60,
        window=a.window,
        skills=frozenset(a.skills),
        certifications=frozenset(a.certs),
    )


def plan(crews, jobs, visits=(), now=None) -> Plan:
    p = Plan({j.job_id: j for j in jobs}, {c.technician_id: c for c in crews})
    p.now = at(8) if now is None else now
    for v in visits:
        p.put(v)
    return p


def visit(jid, tid, start, duration=60, frozen=False) -> Visit:
    return Visit(jid, tid, start, start + duration, frozen)
