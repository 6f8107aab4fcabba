"""Dispatch's routes: technician registry and the (skeleton) dispatch board."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from jobstream.auth import Role, require_roles
from jobstream.contracts.common import Certification, GeoPoint, Identifier, SkillLevel
from jobstream.contracts.dispatch import TechnicianProfile, TechnicianRegistered
from jobstream.dispatch.db import queries
from jobstream.service import Runtime, get_runtime

router = APIRouter(tags=["dispatch"])
Office = require_roles(Role.DISPATCHER)
Reader = require_roles(Role.DISPATCHER, Role.ANALYST)


class RegisterTechnicianBody(BaseModel):
    """A technician joining the registry."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "technician_id": "tech-amir",
                    "name": "Amir Patel",
                    "skills": [{"name": "gas_boiler", "level": 4}, {"name": "plumbing"}],
                    "certifications": [{"name": "gas_safe", "expires_on": "2027-06-30"}],
                    "home_base": {"lat": 53.45, "lon": -2.25},
                }
            ]
        },
    )

    technician_id: Identifier
    name: Annotated[str, Field(min_length=1, max_length=200)]
    skills: Annotated[list[SkillLevel], Field(min_length=1)]
    certifications: list[Certification] = []
    home_base: GeoPoint


@router.post("/technicians", status_code=status.HTTP_201_CREATED, summary="Register a technician")
async def register_technician(
    body: RegisterTechnicianBody,
    _principal: Annotated[Any, Depends(Office)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Add a technician (TechnicianRegistered on `technicians`); 409 if the id exists."""
    assert runtime.store is not None
    event = TechnicianRegistered(
        technician_id=body.technician_id,
        profile=TechnicianProfile(
            name=body.name,
            skills=tuple(body.skills),
            certifications=tuple(body.certifications),
            home_base=body.home_base,
        ),
        registered_at=datetime.now(UTC),
    )
    stream = f"technician-{body.technician_id}"
    async with runtime.engine.begin() as conn:
        if await runtime.store.current_version(conn, stream) != 0:
            raise HTTPException(status.HTTP_409_CONFLICT, detail="technician already registered")
        await runtime.store.append(conn, stream, 0, [event])
        await queries.upsert_technician(conn, event)
    return {"technician_id": body.technician_id}


@router.get("/technicians", summary="The technician registry")
async def list_technicians(
    _principal: Annotated[Any, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> list[dict[str, Any]]:
    """Every registered technician."""
    async with runtime.engine.connect() as conn:
        return await queries.list_technicians(conn)


@router.get("/jobs/{work_order_id}", summary="One job as dispatch sees it")
async def get_job(
    work_order_id: str,
    _principal: Annotated[Any, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Assignment, window, travel and the reasons for the choice."""
    async with runtime.engine.connect() as conn:
        job = await queries.get_job(conn, work_order_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such job")
    return job


@router.get("/board", summary="Jobs, newest first (skeleton board)")
async def board(
    _principal: Annotated[Any, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Every job with its technician and status."""
    async with runtime.engine.connect() as conn:
        return await queries.list_jobs(conn, limit)
