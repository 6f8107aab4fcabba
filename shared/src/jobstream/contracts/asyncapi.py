"""The AsyncAPI 3.0 document of Jobstream's events, generated from the contract registry.

It tells another system everything it needs to subscribe: every topic, which service
publishes it, every event type on it with its payload schema, the CloudEvents headers and
the message key. It is committed as docs/asyncapi.json (a test fails when it is stale) and
served by every service at /asyncapi.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from jobstream.contracts.base import Event, EventRegistry, registry
from jobstream.contracts.schemas import generate
from jobstream.contracts.topics import BILLING, DISPATCH, FIELD, INTAKE, TECHNICIANS

ASYNCAPI_PATH = Path(__file__).resolve().parents[4] / "docs" / "asyncapi.json"

OWNERS = {
    INTAKE: "intake",
    DISPATCH: "dispatch",
    TECHNICIANS: "dispatch",
    FIELD: "fieldupdates",
    BILLING: "billing",
}

CLOUDEVENTS_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0, Kafka protocol binding, binary content mode.",
    "required": [
        "ce_specversion",
        "ce_id",
        "ce_type",
        "ce_source",
        "ce_time",
        "ce_subject",
        "ce_schemaversion",
        "content-type",
    ],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "Unique per event (UUID); dedupe on it."},
        "ce_type": {"type": "string", "description": "Event type, e.g. JobCompleted."},
        "ce_source": {"type": "string", "description": "jobstream/<service>."},
        "ce_time": {"type": "string", "format": "date-time", "description": "When, in UTC."},
        "ce_subject": {
            "type": "string",
            "description": "The work order id (technician id on `technicians`); also the key.",
        },
        "ce_schemaversion": {"type": "string", "description": "Integer schema version."},
        "ce_sequence": {"type": "string", "description": "Version within the owner's stream."},
        "ce_correlationid": {"type": "string", "description": "The job's first event id."},
        "ce_causationid": {"type": "string", "description": "The event that caused this one."},
        "content-type": {"type": "string", "const": "application/json"},
    },
}


def _camel(name: str) -> str:
    parts = re.split(r"[^A-Za-z0-9]+", name)
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _message_name(cls: type[Event]) -> str:
    return f"{cls.event_type}V{cls.schema_version}"


def _hoist(schema: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """Move a payload's ``$defs`` into components.schemas and point every ref there."""
    text = json.dumps(schema).replace('"#/$defs/', '"#/components/schemas/')
    rewritten: dict[str, Any] = json.loads(text)
    for name, definition in rewritten.pop("$defs", {}).items():
        if name in shared and shared[name] != definition:
            raise ValueError(f"two contracts define {name} differently; rename one")
        shared[name] = definition
    return rewritten


def build(reader: EventRegistry = registry) -> dict[str, Any]:
    """The whole AsyncAPI document."""
    shared_schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    by_topic: dict[str, list[type[Event]]] = {}
    for cls in reader.all_contracts():
        by_topic.setdefault(cls.topic, []).append(cls)
    for cls in reader.all_contracts():
        payload = _hoist(generate(cls), shared_schemas)
        for key in ("$id", "x-event-type", "x-schema-version", "x-topic"):
            payload.pop(key, None)
        messages[_message_name(cls)] = {
            "name": cls.event_type,
            "title": f"{cls.event_type} v{cls.schema_version}",
            "summary": (cls.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventsHeaders"},
            "payload": payload,
            "bindings": {"kafka": {"key": {"type": "string", "description": cls.subject_field}}},
            "x-schema-version": cls.schema_version,
            "x-subject-field": cls.subject_field,
        }
    for topic, classes in sorted(by_topic.items()):
        channel_id = _camel(topic)
        owner = OWNERS.get(topic, "unknown")
        channels[channel_id] = {
            "address": topic,
            "title": topic,
            "description": (
                f"Published by {owner}. Unlimited retention: the log of record. "
                f"Dead letters of a consumer of this topic go to `{topic}.dlq`."
            ),
            "messages": {
                _message_name(c): {"$ref": f"#/components/messages/{_message_name(c)}"}
                for c in classes
            },
        }
        operations[f"{_camel(owner)}Publishes{channel_id[:1].upper()}{channel_id[1:]}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"{owner} publishes {topic} through its outbox relay (acks=all).",
        }
    shared_schemas["CloudEventsHeaders"] = CLOUDEVENTS_HEADERS
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Jobstream events",
            "version": "1.0.0",
            "description": (
                "Every fact of a field-service job, from request to paid invoice, as "
                "CloudEvents on Apache Kafka. Key = subject (work order or technician id), "
                "so one job's events are ordered within each topic. Delivery is "
                "at-least-once: deduplicate on ce_id."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The broker `make up` starts.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(shared_schemas.items()))},
    }


def render(document: dict[str, Any]) -> str:
    """Stable text for committing."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
