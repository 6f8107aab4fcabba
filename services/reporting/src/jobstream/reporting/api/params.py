"""Query parameters shared by reporting's routes, validated with errors naming the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import HTTPException, Query, status

from jobstream.reporting.domain.kpis import Definition, GroupBy


def invalid(name: str, msg: str) -> HTTPException:
    """A 422 naming the query parameter, in the shape of FastAPI's own validation errors."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": ["query", name], "msg": msg, "type": "value_error"}],
    )


def aware(name: str, value: datetime | None) -> datetime | None:
    """``value`` if it carries a time zone; 422 naming the parameter otherwise."""
    if value is not None and value.tzinfo is None:
        raise invalid(name, "must include a time zone offset (e.g. Z)")
    return value.astimezone(UTC) if value is not None else None


def as_of_param(
    as_of: Annotated[
        datetime | None,
        Query(description="Answer from the events that occurred at or before this instant."),
    ] = None,
) -> datetime | None:
    """The optional as-of instant."""
    return aware("as_of", as_of)


@dataclass(frozen=True)
class KpiQuery:
    """A KPI request: the period, the breakdown, the definition and the as-of instant."""

    start: datetime
    end: datetime
    group_by: GroupBy
    definition: Definition
    as_of: datetime | None


def kpi_query(
    start: Annotated[datetime | None, Query(description="Period start (inclusive).")] = None,
    end: Annotated[datetime | None, Query(description="Period end (exclusive).")] = None,
    group_by: Annotated[GroupBy, Query(description="Breakdown of job-based KPIs.")] = GroupBy.NONE,
    as_of: Annotated[datetime | None, Query(description="Answer as the log stood then.")] = None,
    ftf_window_days: Annotated[
        float, Query(gt=0, le=365, description="Follow-up window of first-time fix.")
    ] = 30,
    ftf_trust_technician_flags: Annotated[
        bool, Query(description="Count the technician's own not-fixed / follow-up flags.")
    ] = True,
    ftf_planned_visits_count: Annotated[
        bool, Query(description="Count planned maintenance visits as follow-ups.")
    ] = False,
) -> KpiQuery:
    """Defaults: the 30 days up to now (or up to ``as_of``)."""
    as_of = aware("as_of", as_of)
    end = aware("end", end) or as_of or datetime.now(UTC)
    start = aware("start", start) or end - timedelta(days=30)
    if start >= end:
        raise invalid("start", "start must be before end")
    if end - start > timedelta(days=3660):
        raise invalid("end", "a period may span at most ten years")
    definition = Definition(
        ftf_window_days=ftf_window_days,
        ftf_trust_technician_flags=ftf_trust_technician_flags,
        ftf_planned_visits_count=ftf_planned_visits_count,
    )
    return KpiQuery(start, end, group_by, definition, as_of)


@dataclass(frozen=True)
class JobsQuery:
    """A job list request: exact values to match on the projected columns, and the page."""

    filters: dict[str, str]
    limit: int
    offset: int


def jobs_query(
    status_: Annotated[str | None, Query(alias="status")] = None,
    technician_id: str | None = None,
    customer_id: str | None = None,
    priority: str | None = None,
    site_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobsQuery:
    """The filters given (one left out matches any value) and the page."""
    given = {
        "status": status_,
        "technician_id": technician_id,
        "customer_id": customer_id,
        "priority": priority,
        "site_id": site_id,
    }
    return JobsQuery({k: v for k, v in given.items() if v is not None}, limit, offset)
