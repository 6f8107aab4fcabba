"""The board's SLA risk: breached first, then at risk, then the rest."""

from datetime import UTC, date, datetime, timedelta

from jobstream.dispatch.board import build, sla_risk

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def row(wo, priority="P2", start=None, respond=2, resolve=8, state="scheduled"):
    details = {
        "respond_by": (NOW + timedelta(hours=respond)).isoformat(),
        "resolve_by": (NOW + timedelta(hours=resolve)).isoformat(),
        "estimated_duration_minutes": 60,
        "job_type": "boiler_service",
        "site": {"site_id": "s"},
        "customer_id": "c",
    }
    return {
        "work_order_id": wo,
        "priority": priority,
        "details": details,
        "state": state if start is not None else "failed" if state == "failed" else None,
        "technician_id": "t1" if start is not None else None,
        "window_start": start,
        "window_end": start + timedelta(hours=1) if start is not None else None,
        "travel_minutes": 10 if start is not None else None,
        "field_status": None,
    }


def test_a_visit_after_respond_by_is_breached_and_near_it_at_risk():
    late = row("late", start=NOW + timedelta(hours=3))
    close = row("close", start=NOW + timedelta(hours=1, minutes=45))
    fine = row("fine", start=NOW + timedelta(minutes=30))
    risk = timedelta(minutes=30)
    assert sla_risk(late, NOW, risk)[0] == "breached"
    assert sla_risk(close, NOW, risk)[0] == "at_risk"
    assert sla_risk(fine, NOW, risk)[0] == "ok"


def test_tiers_put_sla_risk_on_top_and_lanes_hold_the_unplaced():
    rows = [
        row("fine", start=NOW + timedelta(minutes=30)),
        row("late", start=NOW + timedelta(hours=3)),
        row("waiting"),
        row("failed", state="failed"),
    ]
    tech = {"technician_id": "t1", "name": "T", "active": True, "lat": None}
    board = build(date(2026, 11, 23), "UTC", rows, [tech], NOW, timedelta(minutes=30))
    p2 = next(t for t in board["tiers"] if t["priority"] == "P2")
    assert [j["work_order_id"] for j in p2["jobs"]] == ["late", "fine"]
    assert [j["work_order_id"] for j in board["unscheduled"]] == ["waiting"]
    assert [j["work_order_id"] for j in board["failed"]] == ["failed"]
    kinds = [i["kind"] for i in board["technicians"][0]["timeline"]]
    assert kinds == ["travel", "job", "travel", "job"]
