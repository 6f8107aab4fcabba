"""Fieldupdates' own Prometheus metrics (served at /metrics with the shared ones)."""

from __future__ import annotations

from prometheus_client import Counter

DEVICE_ACTIONS = Counter(
    "jobstream_fieldupdates_device_actions_total",
    "Device actions received, by outcome (applied, duplicate, rejected) and whether kept",
    ["outcome", "kept"],
)
LOCATION_PINGS = Counter(
    "jobstream_fieldupdates_location_pings_total",
    "Location pings received, by whether they were kept or dropped by the rate limit",
    ["kept"],
)
