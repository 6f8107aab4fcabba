"""The dashboard's charts, drawn server-side with matplotlib (no browser script, no CDN).

SVG for the page and the SVG endpoints, PNG for the PNG endpoints. Drawing only: the
figures come from dashboard.py, which reads them through analytics.py.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jobstream.reporting.domain.kpis import AGE_BUCKETS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PALETTE = ("#1f6f8b", "#e07a1f", "#5a9e4b", "#b03a48", "#6c5b7b")


@dataclass(frozen=True)
class Trend:
    """Weekly figures for the trend charts."""

    labels: Sequence[str]
    first_time_fix: Sequence[float | None]
    sla_respond: Sequence[float | None]
    sla_resolve: Sequence[float | None]
    completed: Sequence[int]
    backlog: Sequence[int]


def _figure() -> Figure:
    # Imported here, not at start-up: matplotlib is ~40 MiB a process that never draws a
    # chart (the consumer role) need not carry.
    from matplotlib.figure import Figure

    return Figure(figsize=(6.4, 3.2), dpi=100, layout="constrained")


def _percent(values: Sequence[float | None]) -> list[float]:
    return [v * 100 if v is not None else float("nan") for v in values]


def rates_chart(trend: Trend) -> Figure:
    """First-time fix and SLA compliance by week, in per cent."""
    figure = _figure()
    ax = figure.add_subplot()
    for (label, values), colour in zip(
        (
            ("First-time fix", trend.first_time_fix),
            ("SLA respond", trend.sla_respond),
            ("SLA resolve", trend.sla_resolve),
        ),
        PALETTE,
        strict=False,
    ):
        ax.plot(trend.labels, _percent(values), marker="o", label=label, color=colour)
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.set_title("Rates by week")
    ax.legend(loc="lower left", fontsize=8)
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    return figure


def volume_chart(trend: Trend) -> Figure:
    """Jobs completed per week, and the backlog at each week's end."""
    figure = _figure()
    ax = figure.add_subplot()
    ax.bar(trend.labels, trend.completed, color=PALETTE[0], label="Completed")
    ax.plot(trend.labels, trend.backlog, color=PALETTE[1], marker="o", label="Backlog at week end")
    ax.set_title("Completed jobs and backlog by week")
    ax.legend(loc="upper left", fontsize=8)
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    return figure


def backlog_chart(backlog: dict[str, Any]) -> Figure:
    """Open jobs by priority, stacked by age."""
    figure = _figure()
    ax = figure.add_subplot()
    priorities = list(backlog["by_priority"]) or ["P1", "P2", "P3", "P4"]
    bottoms = [0] * len(priorities)
    for (bucket, _limit), colour in zip(AGE_BUCKETS, PALETTE, strict=True):
        counts = [backlog["by_priority"].get(p, {}).get(bucket, 0) for p in priorities]
        ax.bar(priorities, counts, bottom=bottoms, label=bucket, color=colour)
        bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
    ax.set_title(f"Backlog by priority and age ({backlog['total']} open)")
    ax.legend(title="age", fontsize=8)
    return figure


def utilisation_chart(technicians: dict[str, dict[str, Any]]) -> Figure:
    """Utilisation per technician, in per cent."""
    figure = _figure()
    ax = figure.add_subplot()
    names = list(technicians) or ["—"]
    values = [(technicians[n]["utilisation"] or 0) * 100 if n in technicians else 0 for n in names]
    ax.barh(names, values, color=PALETTE[2])
    ax.set_xlabel("labour ÷ shift time, %")
    ax.set_title("Utilisation by technician")
    ax.tick_params(axis="y", labelsize=7)
    return figure


def render(figure: Figure, fmt: str) -> bytes:
    """The figure as SVG or PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()
