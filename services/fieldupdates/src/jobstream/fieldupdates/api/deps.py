"""Shared pieces of fieldupdates' routes: who may call, the object store, loading a job."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.auth import Principal, Role, require_roles
from jobstream.fieldupdates import handlers
from jobstream.fieldupdates.config import FieldSettings, get_field_settings
from jobstream.fieldupdates.db import queries
from jobstream.objectstore import ObjectStore, object_store_from_settings
from jobstream.service import Runtime, get_runtime

Technician = require_roles(Role.TECHNICIAN)
Office = require_roles(Role.DISPATCHER)
# The job's technician and the office readers (each route checks the technician's own jobs).
JobReader = require_roles(Role.TECHNICIAN, Role.DISPATCHER, Role.ANALYST)


def technician_of(principal: Principal) -> str:
    """The technician a device token speaks for (admins have no device)."""
    if principal.technician_id is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="device actions need a technician's token"
        )
    return principal.technician_id


async def field_settings(request: Request) -> FieldSettings:
    """This process's FieldSettings (read once; async, so no worker-thread hop per request)."""
    settings: FieldSettings | None = getattr(request.app.state, "field_settings", None)
    if settings is None:
        settings = request.app.state.field_settings = get_field_settings()
    return settings


async def object_store(request: Request) -> ObjectStore:
    """This process's object store (built on first use from JOBSTREAM_OBJECT_STORE*)."""
    store: ObjectStore | None = getattr(request.app.state, "object_store", None)
    if store is None:
        store = request.app.state.object_store = object_store_from_settings()
    return store


async def handler_context(
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Annotated[FieldSettings, Depends(field_settings)],
) -> handlers.Context:
    """What this process's handlers work with: its database, job streams and limits."""
    assert runtime.store is not None
    return handlers.Context(runtime.engine, runtime.store, settings)


async def visible_job(
    conn: AsyncConnection, ctx: handlers.Context, principal: Principal, work_order_id: str
) -> handlers.Loaded:
    """A job the caller may see: 404 if unknown, 403 if it is another technician's."""
    row = await queries.get_job(conn, work_order_id)
    if row is None or (row["job_pack"] is None and principal.role is Role.TECHNICIAN):
        raise handlers.JobNotFoundError
    return visible(principal, await handlers.load(conn, ctx.store, row))


def visible(principal: Principal, loaded: handlers.Loaded) -> handlers.Loaded:
    """The job, if the caller may see it.

    A technician gets 404 while the job has no pack yet, and 403 if it is another's.
    """
    if principal.role is Role.TECHNICIAN:
        if loaded.row["job_pack"] is None:
            raise handlers.JobNotFoundError
        if not loaded.assignment.may_see(technician_of(principal)):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this job is not assigned to you")
    return loaded
