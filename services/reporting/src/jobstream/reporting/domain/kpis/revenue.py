"""Revenue: net invoiced less net credited in the period, per currency.

By technician the invoice's own ``technician_id`` decides (else the job's completing
technician); a credit note counts against the technician of the invoice it credits
(docs/kpis.md). ``measures.py`` keeps each job's invoices and credit notes with whom they
count for; ``db/kpi_queries.revenue`` sums them for the KPIs now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jobstream.reporting.domain.jobs import JobFacts
from jobstream.reporting.domain.kpis.terms import GroupBy, Period, group_key, in_period

Money = dict[str, dict[str, dict[str, int]]]


def money(invoiced: int, credited: int) -> dict[str, int]:
    """One currency's figures: net invoiced, net credited and the difference (minor units)."""
    return {
        "invoiced_net_minor": invoiced,
        "credited_net_minor": credited,
        "net_minor": invoiced - credited,
    }


def revenue(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> Money:
    """Net invoiced less net credited in the period, per currency.

    By technician the invoice's own ``technician_id`` decides (else the job's completing
    technician); a credit note counts against the technician of the invoice it credits.
    """

    def key(job: JobFacts, invoice: Mapping[str, Any] | None) -> str:
        if group_by is GroupBy.TECHNICIAN and invoice and invoice["technician_id"]:
            return str(invoice["technician_id"])
        job_key: str = group_key(job, group_by)
        return job_key

    out: Money = {}

    def add(k: str, currency: str, field: str, amount: int) -> None:
        figures = out.setdefault(k, {}).setdefault(currency, money(0, 0))
        figures[field] += amount
        figures["net_minor"] += amount if field == "invoiced_net_minor" else -amount

    for job in jobs:
        for invoice in job["invoices"].values():
            if in_period(period, invoice["issued_at"]):
                add(
                    key(job, invoice),
                    invoice["currency"],
                    "invoiced_net_minor",
                    invoice["net_minor"],
                )
        for credit in job["credits"]:
            if in_period(period, credit["issued_at"]):
                credited = job["invoices"].get(credit["invoice_id"])
                add(
                    key(job, credited),
                    credit["currency"],
                    "credited_net_minor",
                    credit["net_minor"],
                )
    return out
