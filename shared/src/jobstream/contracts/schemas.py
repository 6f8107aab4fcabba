"""JSON Schema for every contract, committed under shared/schemas/, and a compatibility check.

A schema version, once committed, is frozen for readers: a change that would stop a new
reader from reading data written under the committed schema (a field removed, a new
required field, a changed type, an enum value dropped) is backward-incompatible and must
become a new schema version with an upcaster instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jobstream.contracts.base import Event, EventRegistry, registry

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"


def schema_filename(cls: type[Event]) -> str:
    """``RequestLogged.v1.json``."""
    return f"{cls.event_type}.v{cls.schema_version}.json"


def generate(cls: type[Event]) -> dict[str, Any]:
    """The JSON Schema of one contract, with its CloudEvents type and version."""
    schema = cls.model_json_schema(mode="serialization")
    schema["$id"] = f"urn:jobstream:event:{cls.event_type}:v{cls.schema_version}"
    schema["x-event-type"] = cls.event_type
    schema["x-schema-version"] = cls.schema_version
    schema["x-topic"] = cls.topic
    return schema


def render(schema: dict[str, Any]) -> str:
    """Stable text for committing."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_all(directory: Path = SCHEMA_DIR, reader: EventRegistry = registry) -> list[Path]:
    """(Re)write every contract's schema file; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for cls in reader.all_contracts():
        path = directory / schema_filename(cls)
        path.write_text(render(generate(cls)))
        written.append(path)
    return written


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].split("/")[-1]
        node = schema.get("$defs", {})[name]
    return node


def _types(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    node = _resolve(schema, node)
    if "anyOf" in node:
        out: set[str] = set()
        for option in node["anyOf"]:
            out |= _types(schema, option)
        return out
    kind = node.get("type")
    if isinstance(kind, list):
        return set(kind)
    return {kind} if kind else {"any"}


def incompatibilities(
    old: dict[str, Any],
    new: dict[str, Any],
    path: str = "",
    old_root: dict[str, Any] | None = None,
    new_root: dict[str, Any] | None = None,
) -> list[str]:
    """Why ``new`` cannot read data valid under ``old`` (empty when compatible)."""
    old_root = old_root or old
    new_root = new_root or new
    old = _resolve(old_root, old)
    new = _resolve(new_root, new)
    problems: list[str] = []
    old_types, new_types = _types(old_root, old), _types(new_root, new)
    if "any" not in new_types and not old_types <= new_types:
        problems.append(f"{path or '/'}: type {sorted(old_types)} became {sorted(new_types)}")
    if "enum" in old and "enum" in new:
        dropped = set(old["enum"]) - set(new["enum"])
        if dropped:
            problems.append(f"{path or '/'}: enum values removed {sorted(dropped)}")
    old_props = old.get("properties", {})
    new_props = new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"{path}/{name}: field removed")
        else:
            problems += incompatibilities(
                old_props[name], new_props[name], f"{path}/{name}", old_root, new_root
            )
    for name in set(new.get("required", ())) - set(old.get("required", ())):
        problems.append(f"{path}/{name}: new required field")
    if "items" in old and "items" in new:
        problems += incompatibilities(old["items"], new["items"], f"{path}[]", old_root, new_root)
    return problems


def check_all(directory: Path = SCHEMA_DIR, reader: EventRegistry = registry) -> list[str]:
    """Problems between the committed schemas and the contracts (empty when all is well)."""
    problems = []
    for cls in reader.all_contracts():
        path = directory / schema_filename(cls)
        if not path.exists():
            problems.append(f"{path.name}: not committed (run `jobstream schemas write`)")
            continue
        committed = json.loads(path.read_text())
        for issue in incompatibilities(committed, generate(cls)):
            problems.append(f"{path.name}: backward-incompatible: {issue}")
    return problems
