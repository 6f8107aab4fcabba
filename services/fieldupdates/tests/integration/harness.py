"""An in-process fieldupdates API on a fresh real PostgreSQL database, and job seeding."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from jobstream.auth import Role, mint_token
from jobstream.contracts.base import Event
from jobstream.contracts.common import AnswerType, ChecklistItemSpec, ChecklistTemplate
from jobstream.contracts.dispatch import JobDispatched, JobPack, JobRescheduled
from jobstream.contracts.intake import WorkOrderCancelled
from jobstream.fieldupdates.policies import (
    on_job_dispatched,
    on_job_rescheduled,
    on_work_order_cancelled,
)
from jobstream.messaging.envelope import Envelope
from jobstream.messaging.reactions import handlers_by_event
from jobstream.settings import AuthSettings
from jobstream.testing.builders import JobStory

CHECKLIST = ChecklistTemplate(
    template_id="boiler-service-v1",
    title="Boiler service",
    items=(
        ChecklistItemSpec(
            item_id="flue", label="Flue gas reading", answer_type=AnswerType.NUMBER, unit="ppm"
        ),
        ChecklistItemSpec(item_id="safe", label="Appliance safe", answer_type=AnswerType.YES_NO),
        ChecklistItemSpec(
            item_id="plate", label="Photo of data plate", answer_type=AnswerType.PHOTO
        ),
    ),
)
NOW = datetime.now(UTC).replace(microsecond=0)


def headers(role: Role, subject: str, **scope: str) -> dict[str, str]:
    token = mint_token(AuthSettings(), subject=subject, role=role, **scope)
    return {"Authorization": f"Bearer {token}"}


def tech(technician_id: str) -> dict[str, str]:
    return headers(Role.TECHNICIAN, technician_id, technician_id=technician_id)


def office() -> dict[str, str]:
    return headers(Role.DISPATCHER, "office-1")


def dispatched(
    technician_id: str, checklist: ChecklistTemplate | None = None, work_order_id: str = ""
) -> JobDispatched:
    story = JobStory(
        work_order_id=work_order_id or f"wo-{uuid.uuid4().hex[:12]}", technician_id=technician_id
    )
    details = story.details().model_copy(update={"checklist": checklist})
    return JobDispatched(
        work_order_id=story.work_order_id,
        technician_id=technician_id,
        job_pack=JobPack(details=details, window_start=NOW, window_end=NOW + timedelta(hours=2)),
        dispatched_at=NOW - timedelta(minutes=5),
    )


def rescheduled(work_order_id: str, old: str, new: str) -> JobRescheduled:
    return JobRescheduled(
        work_order_id=work_order_id,
        technician_id=new,
        previous_technician_id=old,
        window_start=NOW,
        window_end=NOW + timedelta(hours=2),
        previous_window_start=NOW,
        eta=NOW,
        travel_minutes=10,
        rescheduled_at=NOW,
        decided_by="office-1",
    )


def cancelled(work_order_id: str) -> WorkOrderCancelled:
    return WorkOrderCancelled(
        work_order_id=work_order_id,
        reason="Customer fixed it",
        cancelled_by="office-1",
        cancelled_at=NOW,
    )


@dataclass
class Field:
    """The API client and its database."""

    client: httpx.AsyncClient
    engine: AsyncEngine

    async def deliver(self, event: Event) -> None:
        """Apply an upstream event as the consumer would (one transaction)."""
        handler = handlers_by_event(on_job_dispatched, on_job_rescheduled, on_work_order_cancelled)[
            event.event_type
        ]
        async with self.engine.begin() as conn:
            await handler(conn, Envelope.new(event, source="jobstream/test"))

    async def act(
        self,
        wo: str,
        path: str,
        technician_id: str,
        body: dict[str, Any] | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.client.post(
            f"/jobs/{wo}/{path}",
            json=body or {},
            headers={**tech(technician_id), **(extra_headers or {})},
        )

    async def sync(self, technician_id: str, actions: list[dict[str, Any]]) -> httpx.Response:
        return await self.client.post(
            "/sync", json={"actions": actions}, headers=tech(technician_id)
        )


def action(
    wo: str, kind: str, seq: int, payload: dict[str, Any] | None = None, minutes: int = 0
) -> dict[str, Any]:
    """A device action as the device would record it."""
    return {
        "action_id": str(uuid.uuid4()),
        "work_order_id": wo,
        "type": kind,
        "device_time": (NOW + timedelta(minutes=minutes or seq)).isoformat(),
        "device_seq": seq,
        "payload": payload or {},
    }


def visit(wo: str, labour: int = 75) -> list[dict[str, Any]]:
    """A whole visit recorded offline, in device order."""
    steps = [
        ("acknowledge", {}),
        ("start_travel", {"eta": (NOW + timedelta(minutes=30)).isoformat()}),
        ("log_time", {"kind": "travel", "minutes": 25}),
        ("arrive", {}),
        ("start_work", {}),
        ("use_material", {"sku": "VALVE-15", "description": "Valve", "quantity_milli": 1000}),
        (
            "request_parts",
            {"parts": [{"sku": "PUMP-1", "description": "Pump", "quantity_milli": 1000}]},
        ),
        ("put_on_hold", {"reason": "parts_required"}),
        ("resume", {}),
        ("add_note", {"text": "Stopcock under the stairs", "carry_forward": True}),
        ("log_time", {"kind": "labour", "minutes": labour}),
        ("complete", {"work_done": "Replaced valve", "first_time_fix": True}),
    ]
    return [action(wo, kind, i + 1, payload) for i, (kind, payload) in enumerate(steps)]
