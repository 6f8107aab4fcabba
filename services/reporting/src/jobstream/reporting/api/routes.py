"""Reporting's JSON routes: where each job is, timelines, histories and KPIs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from jobstream.auth import Principal, Role, require_roles
from jobstream.reporting import analytics, charts, dashboard
from jobstream.reporting.api.params import JobsQuery, KpiQuery, as_of_param, jobs_query, kpi_query
from jobstream.reporting.api.session import PAGE_HEADERS, dashboard_reader
from jobstream.reporting.config import get_settings
from jobstream.reporting.db import queries
from jobstream.service import Runtime, get_runtime

router = APIRouter(tags=["reporting"])
OfficeReader = Annotated[Principal, Depends(require_roles(Role.DISPATCHER, Role.ANALYST))]
# The dashboard and its charts also take the session cookie of a browser that signed in.
DashboardReader = Annotated[Principal, Depends(dashboard_reader)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
AsOf = Annotated[datetime | None, Depends(as_of_param)]


def _not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=what)


@router.get("/jobs/{work_order_id}/timeline", summary="A job's full history, every service")
async def job_timeline(
    work_order_id: str, _p: OfficeReader, runtime: RuntimeDep, as_of: AsOf
) -> dict[str, Any]:
    """Status plus every event of the work order in causal order (as of T if given)."""
    async with runtime.engine.connect() as conn:
        events = await analytics.timeline(conn, work_order_id, as_of)
        if as_of is None:
            row = await queries.job(conn, work_order_id)
            current = {k: v for k, v in row.items() if k != "facts"} if row else None
        else:
            view = await analytics.job_as_of(conn, work_order_id, as_of)
            current = {k: v for k, v in view.items() if k != "facts"} if view else None
    if not events:
        raise _not_found("no events for this work order")
    return {"work_order_id": work_order_id, "status": current, "events": events}


@router.get("/jobs/{work_order_id}", summary="Where this job is, across every service")
async def job_status(
    work_order_id: str, _p: OfficeReader, runtime: RuntimeDep, as_of: AsOf
) -> dict[str, Any]:
    """The job's status and facts, now or as the log stood at ``as_of``."""
    async with runtime.engine.connect() as conn:
        if as_of is not None:
            view = await analytics.job_as_of(conn, work_order_id, as_of)
        else:
            view = await queries.job(conn, work_order_id)
    if view is None:
        raise _not_found("no events for this work order" + (" by then" if as_of else ""))
    return view


@router.get("/jobs", summary="Every job's status, now or as of an instant")
async def list_jobs(
    _p: OfficeReader,
    runtime: RuntimeDep,
    q: Annotated[JobsQuery, Depends(jobs_query)],
    as_of: AsOf,
) -> dict[str, Any]:
    """Jobs newest first, filtered on exact values."""
    async with runtime.engine.connect() as conn:
        if as_of is None:
            jobs = await queries.list_jobs(conn, q.filters, q.limit, q.offset)
        else:
            views = await analytics.jobs_as_of(conn, as_of, q.filters)
            jobs = [{k: v for k, v in j.items() if k != "facts"} for j in views]
            jobs = jobs[q.offset : q.offset + q.limit]
    return {"as_of": as_of, "jobs": jobs}


async def _history(runtime: Runtime, column: str, value: str, missing: str) -> dict[str, Any]:
    """The service history of a site or an asset (``column``: site_id or asset_id)."""
    async with runtime.engine.connect() as conn:
        visits = await analytics.service_history(conn, column, value)
    if not visits:
        raise _not_found(missing)
    return {column: value, "jobs": visits}


@router.get("/sites/{site_id}/history", summary="Service history of a site")
async def site_history(site_id: str, _p: OfficeReader, runtime: RuntimeDep) -> dict[str, Any]:
    """Every job at the site, oldest first, with outcome and parts."""
    return await _history(runtime, "site_id", site_id, "no jobs at this site")


@router.get("/assets/{asset_id}/history", summary="Service history of an asset")
async def asset_history(asset_id: str, _p: OfficeReader, runtime: RuntimeDep) -> dict[str, Any]:
    """Every job on the asset, oldest first, with outcome and parts."""
    return await _history(runtime, "asset_id", asset_id, "no jobs on this asset")


@router.get("/technicians/{technician_id}/timeline", summary="A technician's events")
async def technician_timeline(
    technician_id: str, _p: OfficeReader, runtime: RuntimeDep, as_of: AsOf
) -> dict[str, Any]:
    """Registration, profile changes, absences and location pings, in causal order."""
    async with runtime.engine.connect() as conn:
        events = await analytics.timeline(conn, technician_id, as_of)
    if not events:
        raise _not_found("no events for this technician")
    return {"technician_id": technician_id, "events": events}


@router.get("/kpis", summary="Every KPI over a period (docs/kpis.md)")
async def get_kpis(
    _p: OfficeReader, runtime: RuntimeDep, q: Annotated[KpiQuery, Depends(kpi_query)]
) -> dict[str, Any]:
    """KPIs by technician, customer, job type or priority; as of T; under another rule."""
    async with runtime.engine.connect() as conn:
        return await analytics.compute_kpis(
            conn, q.start, q.end, group_by=q.group_by, definition=q.definition, as_of=q.as_of
        )


@router.get("/stats", summary="Simple counts")
async def stats(_p: OfficeReader, runtime: RuntimeDep) -> dict[str, dict[str, int]]:
    """Jobs by status and events by type."""
    async with runtime.engine.connect() as conn:
        return await queries.counts(conn)


async def _dashboard_figures(runtime: Runtime, as_of: datetime | None) -> dict[str, Any]:
    settings = get_settings()
    async with runtime.engine.connect() as conn:
        return await dashboard.figures(
            conn, weeks=settings.dashboard_weeks, time_zone=settings.time_zone, as_of=as_of
        )


@router.get("/dashboard", response_class=HTMLResponse, summary="KPIs, trends and backlog")
async def dashboard_page(_p: DashboardReader, runtime: RuntimeDep, as_of: AsOf) -> HTMLResponse:
    """A server-rendered page; its charts are inline SVG, so it needs nothing else."""
    data = await _dashboard_figures(runtime, as_of)
    return HTMLResponse(await run_in_threadpool(dashboard.page, data), headers=PAGE_HEADERS)


MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


@router.get("/charts/{name}.{fmt}", summary="One dashboard chart as SVG or PNG")
async def chart_image(
    name: str, fmt: str, _p: DashboardReader, runtime: RuntimeDep, as_of: AsOf
) -> Response:
    """rates, volume, backlog or utilisation; svg or png."""
    if name not in dashboard.CHARTS:
        raise _not_found(f"no chart {name!r}; there are {', '.join(dashboard.CHARTS)}")
    if fmt not in MEDIA_TYPES:
        raise _not_found("charts come as .svg or .png")
    data = await _dashboard_figures(runtime, as_of)
    body = await run_in_threadpool(lambda: charts.render(dashboard.chart(name, data), fmt))
    return Response(body, media_type=MEDIA_TYPES[fmt])
