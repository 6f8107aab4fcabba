"""The dispatch board for one day: priority tiers with SLA risk first, timelines, lanes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jobstream.contracts.dispatch import TechnicianProfile
from jobstream.dispatch.domain.plan import PRIORITY_RANK
from jobstream.dispatch.domain.technicians import Absence, working_periods


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC span of a local day."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time.min, tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def sla_risk(row: dict[str, Any], now: datetime, at_risk: timedelta) -> tuple[str, int]:
    """("breached" | "at_risk" | "ok", minutes of slack) against respond-by and resolve-by."""
    details = row["details"]
    respond_by = datetime.fromisoformat(details["respond_by"])
    resolve_by = datetime.fromisoformat(details["resolve_by"])
    if row.get("window_start") is not None:
        slack = min(respond_by - row["window_start"], resolve_by - row["window_end"])
    else:
        duration = timedelta(minutes=details["estimated_duration_minutes"])
        slack = min(respond_by - now, resolve_by - now - duration)
    minutes = int(slack.total_seconds() // 60)
    if slack < timedelta(0):
        return "breached", minutes
    if slack < at_risk:
        return "at_risk", minutes
    return "ok", minutes


RISK_ORDER = {"breached": 0, "at_risk": 1, "ok": 2}


def job_card(row: dict[str, Any], now: datetime, at_risk: timedelta) -> dict[str, Any]:
    """What the board shows of one job."""
    risk, slack = sla_risk(row, now, at_risk)
    details = row["details"]
    return {
        "work_order_id": row["work_order_id"],
        "priority": row["priority"],
        "job_type": details["job_type"],
        "site": details["site"],
        "customer_id": details["customer_id"],
        "customer_name": details.get("customer_name"),
        "description": details.get("description", "")[:200],
        "required_skills": details.get("required_skills", []),
        "estimated_duration_minutes": details["estimated_duration_minutes"],
        "state": row.get("state") or "pending",
        "field_status": row.get("field_status"),
        "technician_id": row.get("technician_id"),
        "window_start": row.get("window_start"),
        "window_end": row.get("window_end"),
        "eta": row.get("eta"),
        "travel_minutes": row.get("travel_minutes"),
        "respond_by": details["respond_by"],
        "resolve_by": details["resolve_by"],
        "sla_risk": risk,
        "sla_slack_minutes": slack,
        "forced": bool(row.get("forced")),
        "failure_reason": row.get("failure_reason"),
        "failure_detail": row.get("failure_detail"),
    }


def build(
    day: date,
    zone: str,
    rows: list[dict[str, Any]],
    technicians: list[dict[str, Any]],
    now: datetime,
    at_risk: timedelta,
    absences: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The board: tiers, timelines, unscheduled and failed lanes.

    Each timeline carries its technician's working time and absences on the day.
    """
    start, end = day_bounds(day, zone)
    cards = [job_card(r, now, at_risk) for r in rows]
    on_day = [
        c
        for c in cards
        if c["window_start"] is not None and c["window_start"] < end and c["window_end"] > start
    ]
    tiers = []
    for priority in sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__):
        jobs = [c for c in on_day if c["priority"] == priority]
        jobs.sort(
            key=lambda c: (RISK_ORDER[c["sla_risk"]], c["sla_slack_minutes"], c["work_order_id"])
        )
        tiers.append({"priority": priority, "jobs": jobs})
    timelines = []
    for t in technicians:
        mine = sorted(
            (c for c in on_day if c["technician_id"] == t["technician_id"]),
            key=lambda c: c["window_start"],
        )
        items: list[dict[str, Any]] = []
        for c in mine:
            if c["travel_minutes"]:
                items.append(
                    {
                        "kind": "travel",
                        "start": c["window_start"] - timedelta(minutes=c["travel_minutes"]),
                        "end": c["window_start"],
                        "to": c["work_order_id"],
                    }
                )
            items.append(
                {
                    "kind": "job",
                    "work_order_id": c["work_order_id"],
                    "priority": c["priority"],
                    "start": c["window_start"],
                    "end": c["window_end"],
                    "field_status": c["field_status"],
                    "sla_risk": c["sla_risk"],
                }
            )
        live = next(
            (
                c
                for c in mine
                if c["field_status"] in ("en_route", "on_site", "in_progress", "on_hold")
            ),
            None,
        )
        own_absences = [a for a in absences or () if a["technician_id"] == t["technician_id"]]
        location = None
        if t.get("lat") is not None:
            location = {"lat": t["lat"], "lon": t["lon"], "located_at": t["located_at"]}
        timelines.append(
            {
                "technician_id": t["technician_id"],
                "name": t["name"],
                "active": t["active"],
                "status": (
                    live["field_status"] if live else ("idle" if t["active"] else "inactive")
                ),
                "current_job": live["work_order_id"] if live else None,
                "location": location,
                "timeline": items,
                **_availability(t, own_absences, start, end),
            }
        )
    open_cards = [c for c in cards if c["window_start"] is None]

    def lane_order(c: dict[str, Any]) -> tuple[int, int, str]:
        return PRIORITY_RANK[c["priority"]], c["sla_slack_minutes"], c["work_order_id"]

    return {
        "day": day.isoformat(),
        "time_zone": zone,
        "as_of": now,
        "tiers": tiers,
        "technicians": timelines,
        "unscheduled": sorted((c for c in open_cards if c["state"] != "failed"), key=lane_order),
        "failed": sorted((c for c in open_cards if c["state"] == "failed"), key=lane_order),
    }


def _availability(
    technician: dict[str, Any], absences: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, Any]:
    """A technician's skills, home base, working time and absences within the day.

    Working time is the shift less absences, with the overtime they may work; nothing is
    known without a profile.
    """
    if technician.get("profile") is None:
        return {"skills": [], "home_base": None, "working": [], "absences": []}
    profile = TechnicianProfile.model_validate(technician["profile"])
    blocks = [Absence(a["absence_id"], a["starts_at"], a["ends_at"], a["reason"]) for a in absences]
    return {
        "skills": [s.name for s in profile.skills],
        "home_base": {"lat": profile.home_base.lat, "lon": profile.home_base.lon},
        "working": [
            {"start": w.start, "end": w.end, "overtime_end": w.overtime_end}
            for w in working_periods(profile, blocks, start, end)
        ],
        "absences": [
            {
                "start": max(a["starts_at"], start),
                "end": min(a["ends_at"], end),
                "reason": a["reason"],
            }
            for a in absences
            if a["starts_at"] < end and a["ends_at"] > start
        ],
    }
