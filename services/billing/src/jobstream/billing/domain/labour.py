"""Which minutes of a labour entry are normal, overtime or out of hours.

Out of hours: outside the rate card's business hours in the *site's* time zone. Overtime:
outside every shift of the technician, in the *technician's* time zone (a technician with
no shifts on record never works overtime). When both apply the out-of-hours rate wins;
surcharges never compound (docs/adr/0040).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from jobstream.billing.domain.config import BusinessHours
from jobstream.contracts.dispatch import Shift


class Band(StrEnum):
    """Rate band of a labour minute, cheapest first."""

    NORMAL = "normal"
    OVERTIME = "overtime"
    OUT_OF_HOURS = "out_of_hours"


def _local_dates(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def _inside(
    moment: datetime, zone: ZoneInfo, weekdays: Iterable[int], start: time, end: time
) -> bool:
    local = moment.astimezone(zone)
    return local.weekday() in set(weekdays) and start <= local.time().replace(tzinfo=None) < end


def _in_a_shift(moment: datetime, zone: ZoneInfo, shifts: tuple[Shift, ...]) -> bool:
    return any(_inside(moment, zone, (s.weekday,), s.start, s.end) for s in shifts)


def band_seconds(
    start: datetime,
    end: datetime,
    *,
    site_zone: str,
    business_hours: BusinessHours,
    technician_zone: str,
    shifts: tuple[Shift, ...],
) -> dict[Band, int]:
    """Seconds of [start, end) in each band.

    The interval is cut at every boundary that could change the band (local midnights,
    business hours, shift starts and ends, in their own zones) and each piece is classified
    by its midpoint, so daylight-saving changes fall out of the zone arithmetic.
    """
    site, tech = ZoneInfo(site_zone), ZoneInfo(technician_zone)
    cuts = {start, end}
    for day in _local_dates(start, end, site):
        for at in (time(0), business_hours.start, business_hours.end):
            cuts.add(_instant(day, at, site))
    for day in _local_dates(start, end, tech):
        cuts.add(_instant(day, time(0), tech))
        for shift in shifts:
            if shift.weekday == day.weekday():
                cuts.add(_instant(day, shift.start, tech))
                cuts.add(_instant(day, shift.end, tech))
    ordered = sorted(c for c in cuts if start <= c <= end)
    seconds = dict.fromkeys(Band, 0)
    for left, right in pairwise(ordered):
        middle = left + (right - left) / 2
        if not _inside(
            middle, site, business_hours.weekdays, business_hours.start, business_hours.end
        ):
            band = Band.OUT_OF_HOURS
        elif shifts and not _in_a_shift(middle, tech, shifts):
            band = Band.OVERTIME
        else:
            band = Band.NORMAL
        seconds[band] += int((right - left).total_seconds())
    return seconds


def band_minutes(
    minutes: int,
    start: datetime | None,
    end: datetime | None,
    *,
    site_zone: str,
    business_hours: BusinessHours,
    technician_zone: str,
    shifts: tuple[Shift, ...],
) -> dict[Band, int]:
    """Split an entry's billed ``minutes`` into bands.

    Only time with a recorded start and end can be shown to be out of hours or overtime; a
    stated duration is billed at the normal rate. When the recorded interval is not exactly
    ``minutes`` long (a break inside it), each band gets its share of ``minutes``, rounded
    down, and the remainder goes to the normal band: rounding favours the customer.
    """
    result = dict.fromkeys(Band, 0)
    if start is None or end is None or end <= start:
        result[Band.NORMAL] = minutes
        return result
    seconds = band_seconds(
        start,
        end,
        site_zone=site_zone,
        business_hours=business_hours,
        technician_zone=technician_zone,
        shifts=shifts,
    )
    span = sum(seconds.values())
    for band in (Band.OVERTIME, Band.OUT_OF_HOURS):
        result[band] = minutes * seconds[band] // span
    result[Band.NORMAL] = minutes - result[Band.OVERTIME] - result[Band.OUT_OF_HOURS]
    return result
