"""CloudEvents 1.0 over Kafka, binary content mode.

Attributes travel as ``ce_*`` headers, the value is the event's data as JSON, and the
key is the aggregate id so that every event of one work order stays in one partition.
Extensions: ``ce_schemaversion``, ``ce_sequence`` (stream version), ``ce_correlationid``,
``ce_causationid``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from jobstream.contracts.base import (
    Event,
    EventRegistry,
    UnknownEventType,
    UnknownSchemaVersion,
    registry,
)

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
Headers = list[tuple[str, bytes]]


class MalformedMessage(ValueError):
    """The message is not a valid Jobstream CloudEvent; ``reason`` says what is wrong."""


@dataclass(frozen=True)
class Envelope:
    """One event with its CloudEvents attributes, decoded."""

    id: str
    type: str
    source: str
    time: datetime
    subject: str
    schema_version: int
    data: Event
    sequence: int | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def new(
        cls,
        data: Event,
        *,
        source: str,
        sequence: int | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        event_id: str | None = None,
        time: datetime | None = None,
    ) -> Envelope:
        """Wrap a fresh event."""
        eid = event_id or str(uuid.uuid4())
        return cls(
            id=eid,
            type=data.event_type,
            source=source,
            time=time or datetime.now(UTC),
            subject=data.subject,
            schema_version=data.schema_version,
            data=data,
            sequence=sequence,
            correlation_id=correlation_id or eid,
            causation_id=causation_id,
        )


def encode_headers(
    *,
    event_id: str,
    event_type: str,
    source: str,
    time: datetime,
    subject: str,
    schema_version: int,
    sequence: int | None,
    correlation_id: str | None,
    causation_id: str | None,
) -> Headers:
    """The ``ce_*`` headers of one event."""
    headers: Headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", event_id.encode()),
        ("ce_type", event_type.encode()),
        ("ce_source", source.encode()),
        ("ce_time", time.astimezone(UTC).isoformat().encode()),
        ("ce_subject", subject.encode()),
        ("ce_schemaversion", str(schema_version).encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if sequence is not None:
        headers.append(("ce_sequence", str(sequence).encode()))
    if correlation_id:
        headers.append(("ce_correlationid", correlation_id.encode()))
    if causation_id:
        headers.append(("ce_causationid", causation_id.encode()))
    return headers


def encode_data(data: Event) -> bytes:
    """The event's data as compact JSON."""
    return data.model_dump_json().encode()


def to_kafka(envelope: Envelope) -> tuple[bytes, bytes, Headers]:
    """(key, value, headers) for producing ``envelope``."""
    headers = encode_headers(
        event_id=envelope.id,
        event_type=envelope.type,
        source=envelope.source,
        time=envelope.time,
        subject=envelope.subject,
        schema_version=envelope.schema_version,
        sequence=envelope.sequence,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.causation_id,
    )
    return envelope.subject.encode(), encode_data(envelope.data), headers


_REQUIRED = ("ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject")


def from_kafka(
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    reader: EventRegistry = registry,
) -> Envelope:
    """Decode a consumed record; raise MalformedMessage naming what is wrong."""
    attrs: dict[str, str] = {}
    for name, raw in headers:
        try:
            attrs[name] = raw.decode() if raw is not None else ""
        except UnicodeDecodeError as exc:
            raise MalformedMessage(f"header {name} is not UTF-8") from exc
    missing = [h for h in _REQUIRED if not attrs.get(h)]
    if missing:
        raise MalformedMessage(f"missing CloudEvents headers: {', '.join(missing)}")
    if attrs["ce_specversion"] != SPEC_VERSION:
        raise MalformedMessage(f"unsupported ce_specversion {attrs['ce_specversion']!r}")
    content_type = attrs.get("content-type", CONTENT_TYPE)
    if not content_type.startswith(CONTENT_TYPE):
        raise MalformedMessage(f"unsupported content-type {content_type!r}")
    try:
        schema_version = int(attrs.get("ce_schemaversion", "1"))
        sequence = int(attrs["ce_sequence"]) if attrs.get("ce_sequence") else None
        time = datetime.fromisoformat(attrs["ce_time"])
    except ValueError as exc:
        raise MalformedMessage(f"bad CloudEvents attribute: {exc}") from exc
    if time.tzinfo is None:
        raise MalformedMessage("ce_time has no time zone")
    if value is None:
        raise MalformedMessage("empty value: a Jobstream event always has data")
    try:
        payload: Any = json.loads(value)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedMessage(f"value is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise MalformedMessage("value is not a JSON object")
    try:
        data = reader.parse(attrs["ce_type"], schema_version, payload)
    except (UnknownEventType, UnknownSchemaVersion) as exc:
        raise MalformedMessage(str(exc)) from exc
    except ValidationError as exc:
        raise MalformedMessage(f"{attrs['ce_type']} data invalid: {exc}") from exc
    if data.subject != attrs["ce_subject"]:
        raise MalformedMessage(
            f"ce_subject {attrs['ce_subject']!r} does not match the data's {data.subject!r}"
        )
    if key is not None and key.decode(errors="replace") != attrs["ce_subject"]:
        raise MalformedMessage("key does not match ce_subject")
    known = {*_REQUIRED, "ce_schemaversion", "ce_sequence", "ce_correlationid", "ce_causationid"}
    return Envelope(
        id=attrs["ce_id"],
        type=attrs["ce_type"],
        source=attrs["ce_source"],
        time=time.astimezone(UTC),
        subject=attrs["ce_subject"],
        schema_version=data.schema_version,
        data=data,
        sequence=sequence,
        correlation_id=attrs.get("ce_correlationid"),
        causation_id=attrs.get("ce_causationid"),
        extra_headers={k: v for k, v in attrs.items() if k not in known},
    )
