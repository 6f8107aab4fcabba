"""SLA deadlines: respond-by and resolve-by from priority and contract, in the site's time zone.

A target is an amount of covered time. Under a 24/7 contract it is plain elapsed time. Under
business hours it is the real time during which the site's wall clock shows an open hour of
an open day, so a DST change is handled physically: the hour skipped in spring is never
open, and the hour repeated in autumn is open twice if its wall-clock hour is open.
Everything here is pure; time zones come from the standard library's zoneinfo.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jobstream.contracts.common import Priority
from jobstream.errors import InvalidInputError

HOURS_PER_DAY = 24
MINUTES_PER_HOUR = 60
MINUTES_PER_DAY = HOURS_PER_DAY * MINUTES_PER_HOUR
# Any offset in the tz database lies within these bounds (UTC−12 … UTC+14).
_MAX_WEST = timedelta(hours=14)
_MAX_EAST = timedelta(hours=14)
# A deadline further away than this means a contract that is (nearly) never open.
MAX_SEARCH_DAYS = 3 * 366


class SlaError(InvalidInputError):
    """SLA terms that cannot produce a deadline."""


@dataclass(frozen=True)
class Targets:
    """How long the business has to respond (arrive) and to resolve, in covered time."""

    respond: timedelta
    resolve: timedelta

    def __post_init__(self) -> None:
        """Refuse targets that are not positive, or a resolve target shorter than respond."""
        if self.respond <= timedelta(0) or self.resolve <= timedelta(0):
            raise SlaError("SLA targets must be positive")
        if self.resolve < self.respond:
            raise SlaError("the resolve target cannot be shorter than the respond target")


@dataclass(frozen=True)
class OpeningWindow:
    """Open from ``open_minute`` to ``close_minute`` after local midnight (1440 = 24:00)."""

    open_minute: int
    close_minute: int

    def __post_init__(self) -> None:
        """Refuse a window that does not open before it closes, within one day."""
        if not 0 <= self.open_minute < self.close_minute <= MINUTES_PER_DAY:
            raise SlaError("an opening window must open before it closes, within one day")


@dataclass(frozen=True)
class BusinessHours:
    """Opening windows by ISO weekday (1 = Monday … 7 = Sunday) and closed dates."""

    weekly: Mapping[int, OpeningWindow]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        """Refuse hours without an open day, or with a weekday outside 1 … 7."""
        if not self.weekly:
            raise SlaError("business hours need at least one open day")
        if any(day not in range(1, 8) for day in self.weekly):
            raise SlaError("weekdays are 1 (Monday) to 7 (Sunday)")

    def window_on(self, day: date) -> OpeningWindow | None:
        """The opening window of a local date, or None when closed all day."""
        if day in self.holidays:
            return None
        return self.weekly.get(day.isoweekday())


@dataclass(frozen=True)
class SlaTerms:
    """Targets per priority and the hours they count in (None: round the clock)."""

    targets: Mapping[Priority, Targets]
    hours: BusinessHours | None = None

    def __post_init__(self) -> None:
        """Refuse terms that leave a priority without targets."""
        missing = set(Priority) - set(self.targets)
        if missing:
            raise SlaError(f"SLA targets missing for {', '.join(sorted(missing))}")


# Terms for a customer without a contract: round the clock, the industry's usual ladder.
STANDARD_TERMS = SlaTerms(
    targets={
        Priority.P1: Targets(timedelta(hours=1), timedelta(hours=4)),
        Priority.P2: Targets(timedelta(hours=4), timedelta(hours=24)),
        Priority.P3: Targets(timedelta(hours=24), timedelta(days=3)),
        Priority.P4: Targets(timedelta(days=3), timedelta(days=14)),
    }
)


def time_zone(key: str) -> ZoneInfo:
    """The IANA zone ``key``; raises SlaError for an unknown one."""
    try:
        return ZoneInfo(key)
    except (ValueError, KeyError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise SlaError(f"unknown IANA time zone {key!r}") from exc


def deadlines(
    terms: SlaTerms, priority: Priority, logged_at: datetime, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """(respond_by, resolve_by) in UTC for a request logged at ``logged_at``."""
    targets = terms.targets[priority]
    return (
        add_covered_time(logged_at, targets.respond, terms.hours, zone),
        add_covered_time(logged_at, targets.resolve, terms.hours, zone),
    )


def add_covered_time(
    start: datetime, amount: timedelta, hours: BusinessHours | None, zone: ZoneInfo
) -> datetime:
    """The first instant by which ``amount`` of covered time has passed since ``start``."""
    start = _utc(start)
    if hours is None:
        return start + amount
    remaining = amount
    if remaining <= timedelta(0):
        return start
    for open_at, close_at in open_intervals(hours, zone, start):
        begin = max(open_at, start)
        available = close_at - begin
        if available >= remaining:
            return begin + remaining
        remaining -= available
    raise SlaError(f"no deadline within {MAX_SEARCH_DAYS} days: the contract is hardly ever open")


def covered_time_between(
    start: datetime, end: datetime, hours: BusinessHours | None, zone: ZoneInfo
) -> timedelta:
    """How much covered time lies between ``start`` and ``end``."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return timedelta(0)
    if hours is None:
        return end - start
    total = timedelta(0)
    for open_at, close_at in open_intervals(hours, zone, start):
        if open_at >= end:
            break
        total += min(close_at, end) - max(open_at, start)
    return total


def open_intervals(
    hours: BusinessHours, zone: ZoneInfo, start: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals in UTC, in time order, that end after ``start``."""
    first_day = _utc(start).astimezone(zone).date() - timedelta(days=1)
    pending: list[tuple[datetime, datetime]] = []
    for offset in range(MAX_SEARCH_DAYS + 2):
        day = first_day + timedelta(days=offset)
        window = hours.window_on(day)
        if window is not None:
            pending.extend(i for i in _day_intervals(day, window, zone) if i[1] > start)
        # A later local day's instants all come after this bound, so what starts before
        # it is final (a fall-back across midnight can interleave two local days).
        bound = (datetime.combine(day + timedelta(days=1), time(0)) - _MAX_EAST).replace(tzinfo=UTC)
        pending.sort()
        while pending and pending[0][0] <= bound:
            yield pending.pop(0)
    yield from pending


def _day_intervals(
    day: date, window: OpeningWindow, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The UTC instants whose local wall time falls in ``window`` on ``day``.

    Within a stretch of constant UTC offset the wall clock runs with real time, so the open
    part of each stretch is one interval; a DST change splits the day into two stretches.
    """
    midnight = datetime.combine(day, time(0))  # naive local wall time
    open_wall = midnight + timedelta(minutes=window.open_minute)
    close_wall = midnight + timedelta(minutes=window.close_minute)
    # Every instant whose local date is ``day`` lies in this UTC range.
    lower = (midnight - _MAX_EAST).replace(tzinfo=UTC)
    upper = (midnight + timedelta(days=1) + _MAX_WEST).replace(tzinfo=UTC)
    intervals = []
    for seg_start, seg_end, offset in _constant_offset_stretches(lower, upper, zone):
        # wall = utc + offset, so wall ∈ [open, close) ⇔ utc ∈ [open − offset, close − offset).
        begin = max(seg_start, (open_wall - offset).replace(tzinfo=UTC))
        end = min(seg_end, (close_wall - offset).replace(tzinfo=UTC))
        if begin < end:
            intervals.append((begin, end))
    return intervals


def _constant_offset_stretches(
    lower: datetime, upper: datetime, zone: ZoneInfo
) -> list[tuple[datetime, datetime, timedelta]]:
    """Split [lower, upper) where the zone's UTC offset changes (found to the second)."""
    stretches = []
    cursor = lower
    while cursor < upper:
        offset = _offset(cursor, zone)
        # Transitions are weeks apart, so halving the range finds the next one if any.
        end = upper
        if _offset(upper - timedelta(seconds=1), zone) != offset:
            low, high = cursor, upper - timedelta(seconds=1)
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle <= low:
                    break
                if _offset(middle, zone) == offset:
                    low = middle
                else:
                    high = middle
            end = high
        stretches.append((cursor, end, offset))
        cursor = end
    return stretches


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise SlaError("SLA times must be timezone-aware")
    return value.astimezone(UTC)


def at_risk(
    now: datetime,
    respond_by: datetime,
    resolve_by: datetime,
    *,
    responded: bool,
    margin: timedelta,
) -> bool:
    """Whether an open job is within ``margin`` of (or past) a deadline it has not met."""
    if not responded and respond_by - now <= margin:
        return True
    return resolve_by - now <= margin


def parse_clock(value: str) -> int:
    """Minutes after midnight of 'HH:MM' ('24:00' is the end of the day)."""
    try:
        hours, minutes = (int(part) for part in value.split(":"))
    except ValueError as exc:
        raise SlaError(f"{value!r} is not a time of day HH:MM") from exc
    minute = hours * MINUTES_PER_HOUR + minutes
    # 24:00 is the last time of day: the end of it.
    if hours < 0 or not 0 <= minutes < MINUTES_PER_HOUR or minute > MINUTES_PER_DAY:
        raise SlaError(f"{value!r} is not a time of day HH:MM")
    return minute


def terms_from_record(
    targets: Mapping[str, Mapping[str, int]],
    business_hours: Mapping[str, Mapping[str, str]] | None,
    holidays: Iterable[str | date] = (),
) -> SlaTerms:
    """SLA terms from a contract as stored; no hours means 24/7.

    Targets in minutes per priority, opening windows by ISO weekday ('1' … '7'), holidays as
    ISO dates.
    """
    parsed_targets = {
        Priority(priority): Targets(
            timedelta(minutes=int(t["respond_minutes"])),
            timedelta(minutes=int(t["resolve_minutes"])),
        )
        for priority, t in targets.items()
    }
    hours = None
    if business_hours is not None:
        hours = BusinessHours(
            weekly={
                int(day): OpeningWindow(parse_clock(w["open"]), parse_clock(w["close"]))
                for day, w in business_hours.items()
            },
            holidays=frozenset(
                d if isinstance(d, date) else date.fromisoformat(d) for d in holidays
            ),
        )
    return SlaTerms(targets=parsed_targets, hours=hours)
