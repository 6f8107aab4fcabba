"""Pure test data: a job pack with a job sheet, and device actions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from jobstream.contracts.common import AnswerType, ChecklistItemSpec, ChecklistTemplate
from jobstream.contracts.dispatch import JobPack
from jobstream.fieldupdates.domain.commands import Command, DeviceAction
from jobstream.fieldupdates.domain.state import Assignment
from jobstream.testing.builders import JobStory

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHECKLIST = ChecklistTemplate(
    template_id="boiler-service-v1",
    title="Boiler service",
    items=(
        ChecklistItemSpec(
            item_id="flue", label="Flue gas reading", answer_type=AnswerType.NUMBER, unit="ppm"
        ),
        ChecklistItemSpec(item_id="safe", label="Appliance safe", answer_type=AnswerType.YES_NO),
        ChecklistItemSpec(
            item_id="photo", label="Photo of data plate", answer_type=AnswerType.PHOTO
        ),
        ChecklistItemSpec(
            item_id="remarks", label="Remarks", answer_type=AnswerType.TEXT, required=False
        ),
    ),
)


def pack(checklist: ChecklistTemplate | None = None) -> JobPack:
    story = JobStory(work_order_id="wo-1", technician_id="t1")
    details = story.details().model_copy(update={"checklist": checklist})
    return JobPack(details=details, window_start=T0, window_end=T0 + timedelta(hours=2))


def assignment(checklist: ChecklistTemplate | None = None, **changes: object) -> Assignment:
    values: dict[str, object] = {
        "work_order_id": "wo-1",
        "technician_id": "t1",
        "pack": pack(checklist),
    }
    values.update(changes)
    return Assignment(**values)  # type: ignore[arg-type]


_clock = {"n": 0}


def act(command: Command, technician: str = "t1", minutes: int | None = None) -> DeviceAction:
    _clock["n"] += 1
    at = T0 + timedelta(minutes=minutes if minutes is not None else _clock["n"])
    return DeviceAction(
        action_id=f"a-{uuid.uuid4().hex[:10]}",
        technician_id=technician,
        work_order_id="wo-1",
        device_time=at,
        device_seq=_clock["n"],
        received_at=at + timedelta(hours=1),
        command=command,
    )
