"""The dashboard: KPI tiles and charts for the latest weeks, as one server-rendered page.

Not a spine module: the page the analyst reads, laid out from analytics.py's KPI answers
and drawn by charts.py; api/routes.py serves it.
"""

from __future__ import annotations

import html
import itertools
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.reporting import analytics, charts
from jobstream.reporting.domain import kpis

CHARTS = ("rates", "volume", "backlog", "utilisation")
# From two hours on, a duration tile reads in hours rather than minutes.
HOURS_FROM_MINUTES = 120


async def figures(
    conn: AsyncConnection, *, weeks: int, time_zone: str, as_of: datetime | None = None
) -> dict[str, Any]:
    """The last ``weeks`` weeks (Monday to Monday in the business's zone) up to now or T."""
    zone = ZoneInfo(time_zone)
    now = datetime.now(UTC)
    until = min(as_of, now) if as_of else now
    local = until.astimezone(zone)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time(0), zone)
    # Weeks are added in the local zone, so each starts at Monday 00:00 across DST changes.
    bounds = [monday + timedelta(weeks=i) for i in range(-weeks + 1, 2)]
    weeks_utc = [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in itertools.pairwise(bounds)]
    periods = [*weeks_utc, (until - timedelta(days=30), until)]
    *weekly, latest = await analytics.kpis_for_periods(conn, periods, as_of=as_of, now=now)

    def all_rate(result: dict[str, Any], name: str) -> float | None:
        return result[name].get(kpis.ALL, {}).get("rate")

    trend = charts.Trend(
        labels=[a.strftime("%d %b") for a in bounds[:-1]],
        first_time_fix=[all_rate(w, "first_time_fix") for w in weekly],
        sla_respond=[all_rate(w, "sla_respond") for w in weekly],
        sla_resolve=[all_rate(w, "sla_resolve") for w in weekly],
        completed=[w["time_to_complete"].get(kpis.ALL, {}).get("count", 0) for w in weekly],
        backlog=[w["backlog"]["total"] for w in weekly],
    )
    return {"trend": trend, "latest": latest, "until": until}


def chart(name: str, data: dict[str, Any]) -> Any:
    """One of CHARTS as a matplotlib figure."""
    if name == "rates":
        return charts.rates_chart(data["trend"])
    if name == "volume":
        return charts.volume_chart(data["trend"])
    if name == "backlog":
        return charts.backlog_chart(data["latest"]["backlog"])
    return charts.utilisation_chart(data["latest"]["technicians"])


def _pct(value: float | None) -> str:
    return f"{value * 100:.0f} %" if value is not None else "—"


def _minutes(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 60:.1f} h" if value >= HOURS_FROM_MINUTES else f"{value:.0f} min"


def satisfaction_tile(figures: dict[str, Any] | None) -> tuple[str, str]:
    """The satisfaction tile's value and note: the mean score always with its number of ratings.

    So that one 5 is not read as a trend.
    """
    if not figures:
        return "—", "no ratings"
    n = figures["ratings"]
    return (
        f"{figures['mean_score']:.2f} / 5",
        f"{n} rating{'s' if n != 1 else ''} · {_pct(figures['rate'])} satisfied",
    )


def page(data: dict[str, Any]) -> str:
    """The dashboard's HTML with every chart inline as SVG."""
    latest = data["latest"]
    revenue = latest["revenue"].get(kpis.ALL, {})
    money = ", ".join(
        f"{currency} {amounts['net_minor'] / 100:,.2f}" for currency, amounts in revenue.items()
    )
    satisfaction = latest["customer_satisfaction"].get(kpis.ALL)
    tiles = [
        ("First-time fix", _pct(latest["first_time_fix"].get(kpis.ALL, {}).get("rate")), ""),
        ("SLA respond", _pct(latest["sla_respond"].get(kpis.ALL, {}).get("rate")), ""),
        ("SLA resolve", _pct(latest["sla_resolve"].get(kpis.ALL, {}).get("rate")), ""),
        ("Customer satisfaction", *satisfaction_tile(satisfaction)),
        (
            "Mean time to arrive",
            _minutes(latest["time_to_arrive"].get(kpis.ALL, {}).get("mean_minutes")),
            "",
        ),
        ("Open jobs", str(latest["backlog"]["total"]), ""),
        ("Net revenue", money or "—", ""),
    ]
    tile_html = "".join(
        f'<div class="tile"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div>'
        + (f'<div class="note">{html.escape(note)}</div>' if note else "")
        + "</div>"
        for label, value, note in tiles
    )
    figures = "".join(
        f'<figure id="chart-{name}">{charts.render(chart(name, data), "svg").decode()}</figure>'
        for name in CHARTS
    )
    until = html.escape(data["until"].strftime("%Y-%m-%d %H:%M UTC"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Jobstream — dashboard</title>
<link rel="icon" href="data:,">
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
.tiles {{ display: flex; flex-wrap: wrap; gap: .75rem; margin-bottom: 1rem; }}
.tile {{ border: 1px solid #ccd; border-radius: 6px; padding: .6rem .9rem; min-width: 9rem; }}
.label {{ font-size: .8rem; color: #556; }} .value {{ font-size: 1.4rem; font-weight: 600; }}
.note {{ font-size: .8rem; color: #556; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); }}
figure {{ margin: .5rem; }} figure svg {{ width: 100%; height: auto; }}
.signout {{ float: right; }}
</style></head>
<body>
<form method="post" action="/logout" class="signout"><button type="submit">Sign out</button></form>
<h1>Jobstream — service dashboard</h1>
<p>Last 30 days to {until}; trends by week. Definitions: docs/kpis.md.</p>
<div class="tiles">{tile_html}</div>
<div class="charts">{figures}</div>
</body></html>
"""
