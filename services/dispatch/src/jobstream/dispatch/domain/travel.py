"""Travel time between places: an interface, with a great-circle estimate and a road matrix."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Place:
    """A point a technician travels from or to; ``key`` names it in a road matrix."""

    key: str
    lat: float
    lon: float


class TravelModel(Protocol):
    """How far and how long by road from one place to another."""

    def km(self, a: Place, b: Place) -> float:
        """Road distance in kilometres."""
        ...

    def minutes(self, a: Place, b: Place) -> int:
        """Driving time in whole minutes (rounded up: an ETA should not be optimistic)."""
        ...


def great_circle_km(a: Place, b: Place) -> float:
    """Haversine distance between two WGS84 points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class GreatCircleTravel:
    """Road distance = great-circle × ``road_factor``; time = distance ÷ ``speed_kmh``."""

    road_factor: float = 1.3
    speed_kmh: float = 40.0

    def km(self, a: Place, b: Place) -> float:
        """Estimated road kilometres."""
        return great_circle_km(a, b) * self.road_factor

    def minutes(self, a: Place, b: Place) -> int:
        """Estimated driving minutes, rounded up."""
        if a.key == b.key:
            return 0
        return _great_circle_minutes(a, b, self.road_factor, self.speed_kmh)


# Kept across decisions: each one asks for most of the same legs again, and a Place is its
# coordinates (a technician's new live position is a new key), so an answer never goes stale.
@lru_cache(maxsize=200_000)
def _great_circle_minutes(a: Place, b: Place, road_factor: float, speed_kmh: float) -> int:
    return math.ceil(great_circle_km(a, b) * road_factor / speed_kmh * 60 - 1e-9)
