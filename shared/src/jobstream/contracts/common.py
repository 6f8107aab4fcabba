"""Value types shared by several services' events."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from jobstream.contracts.base import Contract

Identifier = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
SkillName = Annotated[str, Field(min_length=1, max_length=60, examples=["gas_boiler"])]


class Priority(StrEnum):
    """Set at logging: P1 emergency … P4 planned."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Channel(StrEnum):
    """Where a request came from."""

    PHONE = "phone"
    PORTAL = "portal"
    API = "api"
    EMAIL = "email"
    PLANNED = "planned"


class GeoPoint(Contract):
    """WGS84 coordinates."""

    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


class SiteAddress(Contract):
    """Where the work is done."""

    site_id: Identifier
    address: Annotated[str, Field(min_length=1, max_length=500)]
    location: GeoPoint
    time_zone: str = "Europe/London"
