"""Parts usage: quantity used per SKU (after corrections), by when it was used.

Per group and SKU: the description and unit (the alphabetically first where entries
disagree), the quantity in thousandths and the number of jobs (docs/kpis.md).
``measures.py`` keeps each job's corrected entries; ``db/kpi_queries.parts_usage`` sums them
for the KPIs now.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobstream.reporting.domain.jobs import JobFacts
from jobstream.reporting.domain.kpis.terms import GroupBy, Period, group_key, in_period


def parts_usage(
    jobs: Sequence[JobFacts], period: Period, group_by: GroupBy
) -> dict[str, dict[str, dict[str, Any]]]:
    """Quantity used per SKU (after corrections), by when it was used."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for job in jobs:
        for at, _tech, sku, description, quantity, unit in job["materials"].values():
            if quantity <= 0 or not in_period(period, at):
                continue
            part = out.setdefault(group_key(job, group_by), {}).setdefault(
                sku, {"description": description, "unit": unit, "quantity_milli": 0, "jobs": []}
            )
            # Entries of one SKU normally agree; if not, the alphabetically first wins, so
            # the answer does not depend on the order jobs are read in.
            part["description"] = min(part["description"], description)
            part["unit"] = min(part["unit"], unit)
            part["quantity_milli"] += quantity
            if job["work_order_id"] not in part["jobs"]:
                part["jobs"].append(job["work_order_id"])
    for parts in out.values():
        for part in parts.values():
            part["jobs"] = len(part["jobs"])
    return out
