"""Who may do a job and who should (skeleton: qualified, least loaded, then nearest).

The optimising scheduler replaces this with its issue; the qualification rule stays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobstream.contracts.common import GeoPoint

EARTH_RADIUS_KM = 6371.0088
ROAD_FACTOR = 1.3
SPEED_KMH = 40.0


@dataclass(frozen=True)
class Technician:
    """What matching needs to know of a technician."""

    technician_id: str
    skills: frozenset[str]
    certifications: frozenset[str]
    home_base: GeoPoint
    open_jobs: int


@dataclass(frozen=True)
class Assignment:
    """The chosen technician, the window and why."""

    technician_id: str
    window_start: datetime
    window_end: datetime
    travel_minutes: int
    reasons: tuple[str, ...]


def great_circle_km(a: GeoPoint, b: GeoPoint) -> float:
    """Haversine distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def travel_minutes(a: GeoPoint, b: GeoPoint) -> int:
    """Road time estimate: great-circle × road factor ÷ speed, rounded up."""
    return math.ceil(great_circle_km(a, b) * ROAD_FACTOR / SPEED_KMH * 60)


def is_qualified(
    tech: Technician, skills: tuple[str, ...], certifications: tuple[str, ...]
) -> bool:
    """Every required skill and certification held."""
    return set(skills) <= tech.skills and set(certifications) <= tech.certifications


def choose_technician(
    technicians: list[Technician],
    *,
    site: GeoPoint,
    skills: tuple[str, ...],
    certifications: tuple[str, ...],
    duration_minutes: int,
    not_before: datetime,
) -> Assignment | None:
    """The qualified technician with the fewest open jobs, nearest first; None if nobody."""
    qualified = [t for t in technicians if is_qualified(t, skills, certifications)]
    if not qualified:
        return None
    best = min(
        qualified,
        key=lambda t: (t.open_jobs, great_circle_km(t.home_base, site), t.technician_id),
    )
    travel = travel_minutes(best.home_base, site)
    start = not_before + timedelta(minutes=travel)
    return Assignment(
        technician_id=best.technician_id,
        window_start=start,
        window_end=start + timedelta(minutes=duration_minutes),
        travel_minutes=travel,
        reasons=(
            f"holds required skills {sorted(skills)} and certifications {sorted(certifications)}",
            f"{len(qualified)} qualified of {len(technicians)}; fewest open jobs "
            f"({best.open_jobs}), then nearest ({great_circle_km(best.home_base, site):.1f} km)",
        ),
    )
