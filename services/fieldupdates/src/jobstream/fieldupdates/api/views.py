"""How a job looks to the device and to the office: built from the folded job."""

from __future__ import annotations

from typing import Any

from jobstream.fieldupdates.domain.decide import allowed_actions, missing_required_items
from jobstream.fieldupdates.domain.state import Assignment, FieldJob


def _dump(models: Any) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in models]


def pack_with_site_notes(
    assignment: Assignment, carried: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The job pack, with notes other jobs carried forward at the site added to dispatch's."""
    if assignment.pack is None:
        return None
    pack = assignment.pack.model_dump(mode="json")
    known = {n["note_id"] for n in pack["notes_carried_forward"]}
    for note in carried:
        if note["note_id"] not in known:
            pack["notes_carried_forward"].append(
                {
                    "note_id": note["note_id"],
                    "work_order_id": note["work_order_id"],
                    "text": note["text"],
                    "written_by": note["written_by"],
                    "written_at": note["written_at"].isoformat(),
                }
            )
    return pack


def job_summary(row: dict[str, Any]) -> dict[str, Any]:
    """One line of a job list."""
    return {
        "work_order_id": row["work_order_id"],
        "technician_id": row["technician_id"],
        "status": row["status"],
        "cancelled": row["cancelled_at"] is not None,
        "window_start": row["window_start"],
        "window_end": row["window_end"],
        "job_pack": row["job_pack"],
        "version": row["stream_version"],
    }


def job_view(
    row: dict[str, Any], assignment: Assignment, job: FieldJob, carried: list[dict[str, Any]]
) -> dict[str, Any]:
    """The whole field record of a job."""
    checklist = assignment.pack.details.checklist if assignment.pack else None
    answers = job.latest_answers()
    materials = [
        {**m.model_dump(mode="json"), "quantity_milli_in_force": job.material_quantity(m.entry_id)}
        for m in job.materials
    ]
    return {
        "work_order_id": job.work_order_id,
        "technician_id": assignment.technician_id,
        "status": job.status.value,
        "allowed_actions": list(allowed_actions(job, assignment)),
        "cancelled": assignment.cancelled,
        "cancel_reason": row["cancel_reason"],
        "withdrawn_reason": assignment.withdrawn_reason,
        "window_start": row["window_start"],
        "window_end": row["window_end"],
        "eta": job.eta,
        "hold_reason": job.hold_reason,
        "job_pack": pack_with_site_notes(assignment, carried),
        "checklist": {
            "template": checklist.model_dump(mode="json") if checklist else None,
            "answers": {k: a.model_dump(mode="json") for k, a in answers.items()},
            "missing_required": missing_required_items(job, checklist),
        },
        "time": {
            "entries": _dump(job.time_entries),
            "labour_minutes": job.labour_minutes,
            "travel_minutes": job.travel_minutes,
        },
        "materials": materials,
        "material_corrections": _dump(job.corrections),
        "parts_requests": _dump(job.parts_requests),
        "notes": _dump(job.notes),
        "attachments": _dump(job.attachments),
        "signatures": _dump(job.signatures),
        "completion": job.completion.model_dump(mode="json") if job.completion else None,
        "incomplete": job.incomplete.model_dump(mode="json") if job.incomplete else None,
        "reopened": _dump(job.reopened),
        "rejected_actions": _dump(job.rejected),
        "status_history": [{"status": s.value, "at": at} for s, at in job.status_history],
        "version": row["stream_version"],
    }
