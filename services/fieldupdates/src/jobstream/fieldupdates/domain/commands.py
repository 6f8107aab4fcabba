"""What a technician's device (and the office) can ask of a field job."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jobstream.contracts.base import UtcDatetime
from jobstream.contracts.common import GeoPoint, Identifier, LongText, PartSpec, ShortText
from jobstream.contracts.field import (
    AttachmentKind,
    ChecklistAnswer,
    HoldReason,
    IncompleteReason,
    MaterialSource,
    TimeKind,
)


class Command(BaseModel):
    """A device action's payload; ``action_type`` names it in sync batches."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    action_type: ClassVar[str]


class Acknowledge(Command):
    """The technician has seen the job."""

    action_type: ClassVar[str] = "acknowledge"


class StartTravel(Command):
    """Leaving for the site, expecting to arrive at ``eta``."""

    action_type: ClassVar[str] = "start_travel"
    eta: UtcDatetime | None = None


class ReviseEta(Command):
    """On the way, a new expected arrival time."""

    action_type: ClassVar[str] = "revise_eta"
    eta: UtcDatetime


class Arrive(Command):
    """On site."""

    action_type: ClassVar[str] = "arrive"


class StartWork(Command):
    """Work begins."""

    action_type: ClassVar[str] = "start_work"


class PutOnHold(Command):
    """Work pauses, for a reason."""

    action_type: ClassVar[str] = "put_on_hold"
    reason: HoldReason
    detail: Annotated[str, Field(max_length=2000)] = ""


class Resume(Command):
    """Work resumes after a hold."""

    action_type: ClassVar[str] = "resume"


class Complete(Command):
    """The job is done.

    ``labour_minutes`` may be stated instead of (or on top of) time entries; when omitted,
    the labour logged so far is reported.
    """

    action_type: ClassVar[str] = "complete"
    work_done: LongText
    findings: Annotated[str, Field(max_length=5000)] = ""
    first_time_fix: bool
    follow_up_needed: bool = False
    follow_up_reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    next_service_due: date | None = None
    labour_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] | None = None

    @model_validator(mode="after")
    def _follow_up_has_a_reason(self) -> Complete:
        if self.follow_up_needed and not self.follow_up_reason:
            raise ValueError("follow_up_reason is required when follow_up_needed is true")
        return self


class CouldNotComplete(Command):
    """The visit ends without the job done."""

    action_type: ClassVar[str] = "could_not_complete"
    reason: IncompleteReason
    detail: Annotated[str, Field(max_length=2000)] = ""
    follow_up_needed: bool = True


class LogTime(Command):
    """Travel or labour time, as a start/stop pair or a duration."""

    action_type: ClassVar[str] = "log_time"
    entry_id: Identifier | None = None
    kind: TimeKind
    started_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    minutes: Annotated[int, Field(gt=0, le=24 * 60)] | None = None

    @model_validator(mode="after")
    def _duration_or_interval(self) -> LogTime:
        if (self.started_at is None) != (self.ended_at is None):
            raise ValueError("give both started_at and ended_at, or neither")
        if self.started_at is not None and self.ended_at is not None:
            if self.ended_at <= self.started_at:
                raise ValueError("ended_at must be after started_at")
            spanned = round((self.ended_at - self.started_at).total_seconds() / 60)
            if not 1 <= spanned <= 24 * 60:
                raise ValueError("a time entry spans between 1 minute and 24 hours")
            if self.minutes is not None and self.minutes != spanned:
                raise ValueError(f"minutes {self.minutes} disagrees with the interval ({spanned})")
        elif self.minutes is None:
            raise ValueError("give minutes, or started_at and ended_at")
        return self

    @property
    def duration(self) -> int:
        """Minutes of the entry."""
        if self.minutes is not None:
            return self.minutes
        assert self.started_at is not None and self.ended_at is not None
        spanned: int = round((self.ended_at - self.started_at).total_seconds() / 60)
        return spanned


class UseMaterial(Command):
    """A material fitted or consumed, from van stock or bought in (with its unit cost)."""

    action_type: ClassVar[str] = "use_material"
    entry_id: Identifier | None = None
    sku: Identifier
    description: ShortText
    quantity_milli: Annotated[int, Field(gt=0, le=10**9)]
    unit: Annotated[str, Field(min_length=1, max_length=20)] = "each"
    source: MaterialSource = MaterialSource.VAN_STOCK
    unit_cost_minor: Annotated[int, Field(ge=0)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "GBP"

    @model_validator(mode="after")
    def _bought_in_has_a_cost(self) -> UseMaterial:
        if self.source is MaterialSource.BOUGHT_IN and self.unit_cost_minor is None:
            raise ValueError("unit_cost_minor is required for a bought-in material")
        return self


class RequestParts(Command):
    """Parts are needed (the office sees this at once)."""

    action_type: ClassVar[str] = "request_parts"
    request_id: Identifier | None = None
    parts: Annotated[tuple[PartSpec, ...], Field(min_length=1, max_length=100)]
    note: Annotated[str, Field(max_length=2000)] = ""


class AddNote(Command):
    """A note; ``carry_forward`` shows it on the next visit to the site."""

    action_type: ClassVar[str] = "add_note"
    note_id: Identifier | None = None
    text: LongText
    carry_forward: bool = False


class AnswerChecklistItem(Command):
    """One job sheet item answered (answering again replaces the answer)."""

    action_type: ClassVar[str] = "answer_checklist_item"
    item_id: Identifier
    answer: ChecklistAnswer


class CaptureSignature(Command):
    """The customer signed; the image was uploaded as an attachment first."""

    action_type: ClassVar[str] = "capture_signature"
    attachment_id: Identifier
    signer_name: ShortText
    signed_at: UtcDatetime | None = None


class AddAttachment(Command):
    """A file stored in the object store (made by the upload endpoint, not sent in sync)."""

    action_type: ClassVar[str] = "add_attachment"
    attachment_id: Identifier
    kind: AttachmentKind
    content_type: Annotated[str, Field(min_length=3, max_length=200)]
    size_bytes: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    caption: Annotated[str, Field(max_length=500)] = ""


STATUS_COMMANDS: tuple[type[Command], ...] = (
    Acknowledge,
    StartTravel,
    ReviseEta,
    Arrive,
    StartWork,
    PutOnHold,
    Resume,
    Complete,
    CouldNotComplete,
)
RECORD_COMMANDS: tuple[type[Command], ...] = (
    LogTime,
    UseMaterial,
    RequestParts,
    AddNote,
    AnswerChecklistItem,
    CaptureSignature,
    AddAttachment,
)
# What a sync batch may carry (attachments come through their upload endpoint).
SYNCABLE: dict[str, type[Command]] = {
    c.action_type: c for c in (*STATUS_COMMANDS, *RECORD_COMMANDS) if c is not AddAttachment
}


@dataclass(frozen=True)
class DeviceAction:
    """One action from a technician's device, with both clocks and its place in device order.

    Device order is ``(device_time, device_seq, action_id)``: ``device_seq`` is the
    device's own counter, which breaks ties between actions stamped in the same instant.
    """

    action_id: str
    technician_id: str
    work_order_id: str
    device_time: datetime
    device_seq: int
    received_at: datetime
    command: Command

    @property
    def order(self) -> tuple[datetime, int, str]:
        """Sort key of device order."""
        return (self.device_time, self.device_seq, self.action_id)


@dataclass(frozen=True)
class IncomingAction:
    """A device action as received, its payload not yet checked."""

    action_id: str
    work_order_id: str
    action_type: str
    device_time: datetime
    device_seq: int
    payload: dict[str, Any]

    @property
    def digest(self) -> str:
        """What makes a re-sent action the same action."""
        content = {
            "type": self.action_type,
            "work_order_id": self.work_order_id,
            "payload": self.payload,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()

    @property
    def order(self) -> tuple[datetime, int, str]:
        """Device order: device time, then the device's sequence number, then the id."""
        return (self.device_time, self.device_seq, self.action_id)


@dataclass(frozen=True)
class ApplyDeviceActions:
    """A technician's device actions (a sync batch, or one action from its own endpoint).

    ``keep_refusals`` False: a refusal is answered at once instead of being kept for the
    office (a conflict is kept either way).
    """

    technician_id: str
    actions: tuple[IncomingAction, ...]
    received_at: datetime
    keep_refusals: bool = True


@dataclass(frozen=True)
class RecordLocation:
    """Where a technician's device was at ``device_time``."""

    technician_id: str
    location: GeoPoint
    accuracy_m: float | None
    device_time: datetime
    received_at: datetime


@dataclass(frozen=True)
class Reopen:
    """The office reopens a completed job."""

    work_order_id: str
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class CorrectMaterial:
    """The office corrects a material entry's quantity (0: not used after all)."""

    work_order_id: str
    entry_id: str
    quantity_milli: int
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ApplyRejected:
    """The office applies a kept device action to the job as it now stands."""

    work_order_id: str
    action_id: str
    note: str
    by: str
    at: datetime


@dataclass(frozen=True)
class DiscardRejected:
    """The office decides a kept device action changes nothing."""

    work_order_id: str
    action_id: str
    reason: str
    by: str
    at: datetime


# Kept actions the office may apply later: records of work done, which stand whoever holds
# the job now. A status change of a technician the job was taken from cannot be replayed
# onto another technician's visit; it can only be discarded.
WORK_RECORDS: tuple[type[Command], ...] = (LogTime, UseMaterial, RequestParts, AddNote)
APPLICABLE_LATER: frozenset[str] = frozenset(c.action_type for c in WORK_RECORDS)
