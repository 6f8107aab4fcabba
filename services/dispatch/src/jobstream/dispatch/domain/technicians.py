"""The technician aggregate (profile, absences) and when a technician can work."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobstream.contracts.base import Event
from jobstream.contracts.dispatch import (
    TechnicianAbsenceCancelled,
    TechnicianAbsenceRecorded,
    TechnicianProfile,
    TechnicianProfileUpdated,
    TechnicianRegistered,
)
from jobstream.errors import ConflictError, InvalidInputError, NotFoundError


@dataclass(frozen=True)
class Absence:
    """A period a technician cannot work."""

    absence_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str


@dataclass(frozen=True)
class Technician:
    """Folded state of one technician stream."""

    technician_id: str
    profile: TechnicianProfile | None = None
    absences: dict[str, Absence] = field(default_factory=dict)

    @property
    def registered(self) -> bool:
        """True once TechnicianRegistered was recorded."""
        return self.profile is not None


def stream_id(technician_id: str) -> str:
    """The event stream of a technician."""
    return f"technician-{technician_id}"


def evolve(state: Technician, event: Event) -> Technician:
    """Apply one technician event."""
    match event:
        case TechnicianRegistered(profile=profile) | TechnicianProfileUpdated(profile=profile):
            return replace(state, profile=profile)
        case TechnicianAbsenceRecorded():
            absence = Absence(event.absence_id, event.starts_at, event.ends_at, event.reason)
            return replace(state, absences={**state.absences, event.absence_id: absence})
        case TechnicianAbsenceCancelled():
            rest = {k: v for k, v in state.absences.items() if k != event.absence_id}
            return replace(state, absences=rest)
        case _:
            return state


def check_time_zone(name: str) -> None:
    """Refuse a time zone the IANA database does not know."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(f"unknown time zone {name!r}", field="time_zone") from exc


def registered_profile(state: Technician) -> TechnicianProfile:
    """The technician's profile; a command about one never registered is refused (not found)."""
    if state.profile is None:
        raise NotFoundError(f"no technician {state.technician_id}")
    return state.profile


def decide_register(state: Technician, profile: TechnicianProfile, now: datetime) -> list[Event]:
    """TechnicianRegistered, once per id."""
    if state.registered:
        raise ConflictError(f"technician {state.technician_id} already registered")
    check_time_zone(profile.time_zone)
    return [
        TechnicianRegistered(technician_id=state.technician_id, profile=profile, registered_at=now)
    ]


def decide_update_profile(
    state: Technician, profile: TechnicianProfile, by: str, now: datetime
) -> list[Event]:
    """TechnicianProfileUpdated naming what changed; nothing when nothing did."""
    current = registered_profile(state)
    check_time_zone(profile.time_zone)
    old, new = current.model_dump(), profile.model_dump()
    changed = tuple(sorted(k for k in new if new[k] != old.get(k)))
    if not changed:
        return []
    return [
        TechnicianProfileUpdated(
            technician_id=state.technician_id,
            profile=profile,
            changed_fields=changed,
            updated_by=by,
            updated_at=now,
        )
    ]


def decide_record_absence(
    state: Technician,
    absence_id: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    by: str,
    now: datetime,
) -> list[Event]:
    """TechnicianAbsenceRecorded; the same id twice is a conflict."""
    registered_profile(state)
    if absence_id in state.absences:
        raise ConflictError(f"absence {absence_id} already recorded")
    if ends_at <= starts_at:
        raise InvalidInputError("ends_at must be after starts_at", field="ends_at")
    return [
        TechnicianAbsenceRecorded(
            technician_id=state.technician_id,
            absence_id=absence_id,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            recorded_by=by,
            recorded_at=now,
        )
    ]


def decide_cancel_absence(
    state: Technician, absence_id: str, by: str, now: datetime
) -> list[Event]:
    """TechnicianAbsenceCancelled for a recorded absence."""
    registered_profile(state)
    if absence_id not in state.absences:
        raise NotFoundError(f"no absence {absence_id}")
    return [
        TechnicianAbsenceCancelled(
            technician_id=state.technician_id,
            absence_id=absence_id,
            cancelled_by=by,
            cancelled_at=now,
        )
    ]


# ---------------------------------------------------------------------------------------
# availability


@dataclass(frozen=True, slots=True)
class WorkingTime:
    """A stretch of working time in UTC; ``overtime_end`` ≥ ``end`` when overtime is allowed."""

    start: datetime
    end: datetime
    overtime_end: datetime
    local_date: date


def _shift_instances(
    profile: TechnicianProfile, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, date]]:
    zone = ZoneInfo(profile.time_zone)
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    out = []
    day = first
    while day <= last:
        for shift in profile.shifts:
            if shift.weekday == day.weekday():
                s = datetime.combine(day, shift.start, zone).astimezone(UTC)
                e = datetime.combine(day, shift.end, zone).astimezone(UTC)
                out.append((s, e, day))
        day += timedelta(days=1)
    return sorted(out)


def _merge(spans: list[tuple[datetime, datetime, date]]) -> list[tuple[datetime, datetime, date]]:
    """Join shifts of one local day that meet or overlap (a split shift, two entries).

    Days are never joined: a working period belongs to one local date, on which its
    certifications are checked, so a job cannot run across midnight.
    """
    merged: list[tuple[datetime, datetime, date]] = []
    for s, e, d in spans:
        if merged and merged[-1][2] == d and s - merged[-1][1] <= timedelta(minutes=1):
            ps, pe, pd = merged[-1]
            merged[-1] = (ps, max(pe, e), pd)
        else:
            merged.append((s, e, d))
    return merged


def working_periods(
    profile: TechnicianProfile,
    absences: list[Absence] | tuple[Absence, ...],
    start: datetime,
    end: datetime,
) -> list[WorkingTime]:
    """When the technician can work between ``start`` and ``end`` (UTC): shifts less absences.

    Overtime (when allowed) extends a shift's end; it is never granted into an absence.
    """
    if not profile.active:
        return []
    overtime = timedelta(minutes=profile.max_overtime_minutes if profile.overtime_allowed else 0)
    blocks = sorted((a.starts_at, a.ends_at) for a in absences)
    periods: list[WorkingTime] = []
    for s, e, day in _merge(_shift_instances(profile, start, end)):
        pieces = [(s, e, e + overtime)]
        for bs, be in blocks:
            cut: list[tuple[datetime, datetime, datetime]] = []
            for ps, pe, po in pieces:
                if be <= ps or bs >= po:
                    cut.append((ps, pe, po))
                    continue
                if bs > ps:
                    cut.append((ps, min(pe, bs), min(po, bs)))
                if be < po:
                    cut.append((max(ps, be), max(pe, be), po))
            pieces = cut
        for ps, pe, po in pieces:
            ps, pe, po = max(ps, start), min(pe, end), min(po, end)
            if po > ps:
                periods.append(WorkingTime(ps, max(pe, ps), po, day))
    return sorted(periods, key=lambda p: p.start)
