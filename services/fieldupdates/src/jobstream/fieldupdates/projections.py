"""Fieldupdates' read models for the office, projected inline from the job's own events.

Called by the handlers in the transaction that appends the events (so a query never sees
an event without its row): parts requests, refused device actions and what became of
them, and the notes a technician asks to carry forward to the next visit at the site.
Attachments' rows are written when their bytes are stored (``handlers``), not here.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event
from jobstream.contracts.field import (
    AttachmentAdded,
    DeviceActionRejected,
    NoteAdded,
    PartsRequested,
    RejectedActionApplied,
    RejectedActionDiscarded,
)
from jobstream.fieldupdates.db import queries


async def project(
    conn: AsyncConnection, wo: str, new_events: list[Event], event_ids: list[str]
) -> None:
    """The office's query tables, from the events just appended (same transaction)."""
    parts, rejected, notes = [], [], []
    for event, event_id in zip(new_events, event_ids, strict=True):
        match event:
            case PartsRequested():
                parts.append(
                    {
                        "request_id": event.request_id,
                        "work_order_id": wo,
                        "technician_id": event.technician_id,
                        "parts": [p.model_dump(mode="json") for p in event.parts],
                        "note": event.note,
                        "device_time": event.device_time,
                        "received_at": event.received_at,
                    }
                )
            case DeviceActionRejected():
                rejected.append(
                    {
                        "event_id": event_id,
                        "work_order_id": wo,
                        "technician_id": event.technician_id,
                        "action_id": event.action_id,
                        "action_type": event.action_type,
                        "reason": event.reason,
                        "payload": event.payload,
                        "device_time": event.device_time,
                        "received_at": event.received_at,
                    }
                )
            case NoteAdded() if event.carry_forward and event.site_id:
                notes.append(
                    {
                        "note_id": event.note_id,
                        "site_id": event.site_id,
                        "work_order_id": wo,
                        "text": event.text,
                        "written_by": event.technician_id,
                        "written_at": event.device_time,
                    }
                )
            case AttachmentAdded():
                pass  # its row was written when the bytes were stored
            case RejectedActionApplied():
                await queries.resolve_rejected(
                    conn,
                    wo,
                    event.action_id,
                    "applied",
                    event.note,
                    event.applied_by,
                    event.applied_at,
                )
            case RejectedActionDiscarded():
                await queries.resolve_rejected(
                    conn,
                    wo,
                    event.action_id,
                    "discarded",
                    event.reason,
                    event.discarded_by,
                    event.discarded_at,
                )
    await queries.insert_rows(conn, "parts_requests", parts)
    await queries.insert_rows(conn, "rejected_actions", rejected)
    await queries.insert_rows(conn, "site_notes", notes)
