"""The KPIs of docs/kpis.md, pure: every rule here, one module per KPI, and a map of the rest.

Every KPI is answered two ways with the same rules. As of an instant T, from job and
technician facts folded from the events known at T (``compute``, docs/adr/0050); now, as
SQL aggregates over per-job measures the projection keeps (docs/adr/0053). The same
function answers both where it can; where it cannot, the SQL twin names this one.

Where each part lives:

- ``terms``: ``Period``, ``GroupBy``, ``Definition`` (the adjustable rules); a job's first
  completion, first response and group; ``rate``, ``mean``, ``p90``.
- ``first_time_fix``: first-time fix and repeat visits (follow-ups, reopenings, flags).
- ``sla``: respond and resolve compliance; ``effective_deadline``, the deadline in force.
- ``durations``: time to schedule, to arrive, to complete; completion to invoice.
- ``satisfaction``: customer satisfaction from the visits' ratings.
- ``parts``: parts usage per SKU.
- ``revenue``: net invoiced less net credited, per currency.
- ``backlog``: open jobs by priority and age.
- ``utilisation``: the technician KPIs, jobs per shift day and utilisation.
- ``answer``: ``compute``, every KPI for a period in the shape the API answers.
- ``measures``: what each KPI needs from one job, as the rows the projection stores.

Outside this package: the SQL over the measures is ``db/kpi_queries.py`` (one function per
KPI, named as here; its ``compute`` is the answer now), the measure tables are in
``db/tables.py``, and ``analytics.py`` picks one way or the other for the API and the CLI.
The names below are this package's public ones, importable from it directly.
"""

from jobstream.reporting.domain.kpis.answer import compute, header
from jobstream.reporting.domain.kpis.backlog import AGE_BUCKETS, backlog, backlog_figures
from jobstream.reporting.domain.kpis.durations import (
    completion_to_invoice,
    first_invoice,
    time_to_arrive,
    time_to_complete,
    time_to_schedule,
)
from jobstream.reporting.domain.kpis.first_time_fix import (
    first_time_fix,
    is_planned,
    is_repeat_visit,
    repeat_visits,
    technician_flagged,
)
from jobstream.reporting.domain.kpis.parts import parts_usage
from jobstream.reporting.domain.kpis.revenue import money, revenue
from jobstream.reporting.domain.kpis.satisfaction import (
    SATISFIED_SCORE,
    customer_satisfaction,
    rating_key,
    satisfaction,
)
from jobstream.reporting.domain.kpis.sla import effective_deadline, sla, withdrawn_at
from jobstream.reporting.domain.kpis.terms import (
    ALL,
    DAY,
    UNASSIGNED,
    Definition,
    GroupBy,
    Period,
    first_completion,
    group_key,
    in_period,
    mean,
    p90,
    rate,
    response_at,
)
from jobstream.reporting.domain.kpis.utilisation import (
    labour_entries,
    technician_kpis,
    technician_table,
)

__all__ = [
    "AGE_BUCKETS",
    "ALL",
    "DAY",
    "SATISFIED_SCORE",
    "UNASSIGNED",
    "Definition",
    "GroupBy",
    "Period",
    "backlog",
    "backlog_figures",
    "completion_to_invoice",
    "compute",
    "customer_satisfaction",
    "effective_deadline",
    "first_completion",
    "first_invoice",
    "first_time_fix",
    "group_key",
    "header",
    "in_period",
    "is_planned",
    "is_repeat_visit",
    "labour_entries",
    "mean",
    "money",
    "p90",
    "parts_usage",
    "rate",
    "rating_key",
    "repeat_visits",
    "response_at",
    "revenue",
    "satisfaction",
    "sla",
    "technician_flagged",
    "technician_kpis",
    "technician_table",
    "time_to_arrive",
    "time_to_complete",
    "time_to_schedule",
    "withdrawn_at",
]
