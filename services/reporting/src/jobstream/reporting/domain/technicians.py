"""A technician's facts folded from the `technicians` topic, and the shift time they give.

The facts are the profiles over time and the absences; the shift time is over a period.

Shifts are weekly periods in the technician's own time zone; a day is a calendar day in
that zone (docs/kpis.md). The profile in force at the start of a local day gives that
day's shifts, so a change of rota applies from the next day on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jobstream.reporting.domain.jobs import ts

TechnicianFacts = dict[str, Any]
EventRow = Mapping[str, Any]


def new_technician(technician_id: str) -> TechnicianFacts:
    """The facts of a technician nothing is known about yet."""
    return {
        "technician_id": technician_id,
        "name": None,
        "time_zone": "Europe/London",
        # [[effective_at, {weekday, start, end}[] , active]] in time order.
        "rotas": [],
        # {absence_id: [starts_at, ends_at, cancelled]}
        "absences": {},
        "event_count": 0,
        "last_event_at": None,
    }


def evolve(tech: TechnicianFacts, event: EventRow) -> TechnicianFacts:
    """Apply one `technicians` event to a technician's facts, in place."""
    kind: str = event["event_type"]
    d: Mapping[str, Any] = event["data"]
    tech["event_count"] += 1
    occurred = ts(event["occurred_at"])
    if occurred is not None and (tech["last_event_at"] is None or occurred > tech["last_event_at"]):
        tech["last_event_at"] = occurred
    if kind in ("TechnicianRegistered", "TechnicianProfileUpdated"):
        profile = d["profile"]
        at = ts(d.get("registered_at") or d.get("updated_at"))
        tech["name"] = profile["name"]
        tech["time_zone"] = profile.get("time_zone", "Europe/London")
        shifts = [[s["weekday"], s["start"], s["end"]] for s in profile.get("shifts", ())]
        tech["rotas"].append([at, shifts, profile.get("active", True)])
        tech["rotas"].sort(key=lambda r: r[0] if r[0] is not None else float("-inf"))
    elif kind == "TechnicianAbsenceRecorded":
        tech["absences"][d["absence_id"]] = [ts(d["starts_at"]), ts(d["ends_at"]), False]
    elif kind == "TechnicianAbsenceCancelled":
        absence = tech["absences"].get(d["absence_id"])
        if absence is not None:
            absence[2] = True
    return tech


def fold(technician_id: str, events: Iterable[EventRow]) -> TechnicianFacts:
    """A technician's facts from their events in order."""
    tech = new_technician(technician_id)
    for event in events:
        evolve(tech, event)
    return tech


def _rota_at(tech: TechnicianFacts, at: float) -> tuple[list[list[Any]], bool]:
    shifts: list[list[Any]] = []
    active = False
    for effective_at, rota_shifts, rota_active in tech["rotas"]:
        if effective_at is None or effective_at <= at:
            shifts, active = rota_shifts, rota_active
    return shifts, active


def _subtract(interval: tuple[float, float], holes: list[tuple[float, float]]) -> float:
    """Seconds of ``interval`` not covered by ``holes``."""
    start, end = interval
    covered: list[tuple[float, float]] = []
    for h_start, h_end in sorted(holes):
        lo, hi = max(start, h_start), min(end, h_end)
        if lo < hi:
            if covered and lo <= covered[-1][1]:
                covered[-1] = (covered[-1][0], max(covered[-1][1], hi))
            else:
                covered.append((lo, hi))
    return (end - start) - sum(hi - lo for lo, hi in covered)


def shift_minutes_by_day(tech: TechnicianFacts, start: float, end: float) -> dict[date, float]:
    """Minutes of shift, less absences, on each local day within [start, end)."""
    zone = ZoneInfo(tech["time_zone"])
    absences = [(a[0], a[1]) for a in tech["absences"].values() if not a[2]]
    day = datetime.fromtimestamp(start, zone).date()
    last = datetime.fromtimestamp(end, zone).date()
    out: dict[date, float] = {}
    while day <= last:
        day_start = datetime.combine(day, time(0), zone).timestamp()
        shifts, active = _rota_at(tech, day_start)
        minutes = 0.0
        if active:
            for weekday, s_start, s_end in shifts:
                if weekday != day.weekday():
                    continue
                lo = datetime.combine(day, time.fromisoformat(s_start), zone).timestamp()
                hi = datetime.combine(day, time.fromisoformat(s_end), zone).timestamp()
                lo, hi = max(lo, start), min(hi, end)
                if lo < hi:
                    minutes += _subtract((lo, hi), absences) / 60
        if minutes > 0:
            out[day] = minutes
        day += timedelta(days=1)
    return out
