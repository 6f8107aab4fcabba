"""CloudEvents 1.0 over Kafka, binary content mode.

Attributes travel as ``ce_*`` headers, the value is the event's data as JSON, and the
key is the aggregate id so that every event of one work order stays in one partition.
Extensions: ``ce_schemaversion``, ``ce_sequence`` (stream version), ``ce_correlationid``,
``ce_causationid``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from jobstream.contracts.base import (
    Event,
    EventRegistry,
    UnknownEventTypeError,
    UnknownSchemaVersionError,
    registry,
)

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
Headers = list[tuple[str, bytes]]


class MalformedMessageError(ValueError):
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


@dataclass(frozen=True, kw_only=True)
class CloudEventAttributes:
    """The attributes of one event that travel as its ``ce_*`` headers."""

    event_id: str
    event_type: str
    source: str
    time: datetime
    subject: str
    schema_version: int
    sequence: int | None
    correlation_id: str | None
    causation_id: str | None


def encode_headers(attributes: CloudEventAttributes) -> Headers:
    """The ``ce_*`` headers of one event."""
    headers: Headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", attributes.event_id.encode()),
        ("ce_type", attributes.event_type.encode()),
        ("ce_source", attributes.source.encode()),
        ("ce_time", attributes.time.astimezone(UTC).isoformat().encode()),
        ("ce_subject", attributes.subject.encode()),
        ("ce_schemaversion", str(attributes.schema_version).encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if attributes.sequence is not None:
        headers.append(("ce_sequence", str(attributes.sequence).encode()))
    if attributes.correlation_id:
        headers.append(("ce_correlationid", attributes.correlation_id.encode()))
    if attributes.causation_id:
        headers.append(("ce_causationid", attributes.causation_id.encode()))
    return headers


def encode_data(data: Event) -> bytes:
    """The event's data as compact JSON."""
    return data.model_dump_json().encode()


def to_kafka(envelope: Envelope) -> tuple[bytes, bytes, Headers]:
    """(key, value, headers) for producing ``envelope``."""
    headers = encode_headers(
        CloudEventAttributes(
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
    )
    return envelope.subject.encode(), encode_data(envelope.data), headers


_REQUIRED = ("ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject")


def _decoded_headers(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    """The headers as text by name (a None value as ""); MalformedMessageError unless UTF-8."""
    attrs: dict[str, str] = {}
    for name, raw in headers:
        try:
            attrs[name] = raw.decode() if raw is not None else ""
        except UnicodeDecodeError as exc:
            raise MalformedMessageError(f"header {name} is not UTF-8") from exc
    return attrs


def _check_cloudevent(attrs: Mapping[str, str]) -> None:
    """Raise MalformedMessageError unless required headers, spec version and content type fit."""
    missing = [h for h in _REQUIRED if not attrs.get(h)]
    if missing:
        raise MalformedMessageError(f"missing CloudEvents headers: {', '.join(missing)}")
    if attrs["ce_specversion"] != SPEC_VERSION:
        raise MalformedMessageError(f"unsupported ce_specversion {attrs['ce_specversion']!r}")
    content_type = attrs.get("content-type", CONTENT_TYPE)
    if not content_type.startswith(CONTENT_TYPE):
        raise MalformedMessageError(f"unsupported content-type {content_type!r}")


def _numbers_and_time(attrs: Mapping[str, str]) -> tuple[int, int | None, datetime]:
    """The schema version, the sequence (None when absent) and the aware ``ce_time``."""
    try:
        schema_version = int(attrs.get("ce_schemaversion", "1"))
        sequence = int(attrs["ce_sequence"]) if attrs.get("ce_sequence") else None
        time = datetime.fromisoformat(attrs["ce_time"])
    except ValueError as exc:
        raise MalformedMessageError(f"bad CloudEvents attribute: {exc}") from exc
    if time.tzinfo is None:
        raise MalformedMessageError("ce_time has no time zone")
    return schema_version, sequence, time


def _json_object(value: bytes | None) -> dict[str, Any]:
    """The record's value as a JSON object; MalformedMessageError when it is anything else."""
    if value is None:
        raise MalformedMessageError("empty value: a Jobstream event always has data")
    try:
        payload: Any = json.loads(value)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedMessageError(f"value is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise MalformedMessageError("value is not a JSON object")
    return payload


def _check_subject(key: bytes | None, subject: str, data: Event) -> None:
    """Raise MalformedMessageError unless ``ce_subject`` is the data's subject and the key's."""
    if data.subject != subject:
        raise MalformedMessageError(
            f"ce_subject {subject!r} does not match the data's {data.subject!r}"
        )
    if key is not None and key.decode(errors="replace") != subject:
        raise MalformedMessageError("key does not match ce_subject")


def from_kafka(
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    reader: EventRegistry = registry,
) -> Envelope:
    """Decode a consumed record; raise MalformedMessageError naming what is wrong."""
    attrs = _decoded_headers(headers)
    _check_cloudevent(attrs)
    schema_version, sequence, time = _numbers_and_time(attrs)
    payload = _json_object(value)
    try:
        data = reader.parse(attrs["ce_type"], schema_version, payload)
    except (UnknownEventTypeError, UnknownSchemaVersionError) as exc:
        raise MalformedMessageError(str(exc)) from exc
    except ValidationError as exc:
        raise MalformedMessageError(f"{attrs['ce_type']} data invalid: {exc}") from exc
    _check_subject(key, attrs["ce_subject"], data)
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
