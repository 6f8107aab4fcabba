"""JSON Schema for every contract, committed under shared/schemas/, and a compatibility check.

A schema version, once committed, is frozen in both directions (docs/adr/0082):

- *backward*: a new reader must read everything written under the committed schema, so no
  field may be removed, become required or change type, and no enum value may go;
- *forward*: an older reader, which ignores fields it does not know, must read everything
  the new schema allows, so a new field may be added only as optional, and no type may
  widen (null included), no enum value appear and no length or range loosen.

Patterns and formats must stay as they were. A change that fails either way is a new
schema version with an upcaster instead; what the check cannot compare (a union of several
objects, ``oneOf`` and the like) is reported, never passed unread.
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


Schema = dict[str, Any]
# Bounds a reader enforces: an upper one must not fall below the writer's, a lower one must
# not rise above it (a missing bound is no bound).
_UPPER = ("maxLength", "maximum", "exclusiveMaximum", "maxItems")
_LOWER = ("minLength", "minimum", "exclusiveMinimum", "minItems")


def _resolve(root: Schema, node: Schema) -> Schema:
    while "$ref" in node:
        name = node["$ref"].split("/")[-1]
        node = root.get("$defs", {})[name]
    return node


def _leaves(root: Schema, node: Schema) -> list[Schema]:
    """The alternatives a node allows, with references resolved and unions flattened."""
    node = _resolve(root, node)
    if "anyOf" not in node:
        return [node]
    return [leaf for option in node["anyOf"] for leaf in _leaves(root, option)]


def _types(leaves: list[Schema]) -> set[str]:
    out: set[str] = set()
    for leaf in leaves:
        kind = leaf.get("type")
        out |= set(kind) if isinstance(kind, list) else {kind} if kind else {"any"}
    return out


def _enum(leaves: list[Schema]) -> set[Any] | None:
    """The values allowed, or None when some non-null alternative allows any value."""
    values: set[Any] = set()
    for leaf in leaves:
        if leaf.get("type") == "null":
            continue
        if "enum" in leaf:
            values |= set(leaf["enum"])
        elif "const" in leaf:
            values.add(leaf["const"])
        else:
            return None
    return values


# Keywords the check does not follow: a schema using one is reported, never passed unread.
_UNCHECKED = ("allOf", "oneOf", "not", "if", "prefixItems", "patternProperties")


def _holding(leaves: list[Schema], key: str) -> list[Schema]:
    """The alternatives where ``key`` holds a schema: properties, map values, array items."""
    return [leaf for leaf in leaves if isinstance(leaf.get(key), dict)]


class _Reading:
    """Why a reader schema would refuse some data valid under a writer schema.

    Backward: the reader is the new schema, the writer the committed one. Forward: the
    reader is the committed schema (read tolerantly: unknown fields are ignored, whatever
    its ``additionalProperties`` says), the writer the new one.
    """

    def __init__(self, reader_root: Schema, writer_root: Schema, *, backward: bool) -> None:
        self.reader_root = reader_root
        self.writer_root = writer_root
        self.backward = backward
        self.problems: list[str] = []

    def old_new(self, reader_value: Any, writer_value: Any) -> tuple[Any, Any]:
        return (writer_value, reader_value) if self.backward else (reader_value, writer_value)

    def compare(self, reader: Schema, writer: Schema, path: str) -> None:
        r_leaves = _leaves(self.reader_root, reader)
        w_leaves = _leaves(self.writer_root, writer)
        self.compare_types(r_leaves, w_leaves, path)
        self.compare_enums(r_leaves, w_leaves, path)
        self.compare_bounds(r_leaves, w_leaves, path)
        unchecked = sorted({k for leaf in (*r_leaves, *w_leaves) for k in _UNCHECKED if k in leaf})
        if unchecked:
            self.problems.append(
                f"{path or '/'}: uses {unchecked}, which this check does not compare"
            )
        pair = self.pair(r_leaves, w_leaves, "properties", path)
        if pair is not None:
            self.compare_objects(*pair, path)
        pair = self.pair(r_leaves, w_leaves, "additionalProperties", path)
        if pair is not None:
            self.compare(
                pair[0]["additionalProperties"], pair[1]["additionalProperties"], path + "{}"
            )
        pair = self.pair(r_leaves, w_leaves, "items", path)
        if pair is not None:
            self.compare(pair[0]["items"], pair[1]["items"], path + "[]")

    def pair(
        self, r_leaves: list[Schema], w_leaves: list[Schema], key: str, path: str
    ) -> tuple[Schema, Schema] | None:
        """The reader's and the writer's one alternative holding ``key``, to compare inside.

        None when a side has none; several on a side (a union of two models, say) cannot be
        matched up here, so that is reported rather than passed unread.
        """
        r_found, w_found = _holding(r_leaves, key), _holding(w_leaves, key)
        if not r_found or not w_found:
            return None
        if len(r_found) > 1 or len(w_found) > 1:
            self.problems.append(
                f"{path or '/'}: a union of several schemas with {key}, "
                "which this check cannot match up"
            )
            return None
        return r_found[0], w_found[0]

    def compare_types(self, r_leaves: list[Schema], w_leaves: list[Schema], path: str) -> None:
        r_types, w_types = _types(r_leaves), _types(w_leaves)
        if "any" in r_types:
            return
        # A reader of numbers also takes integers; nothing takes "any" but "any".
        refused = {
            t for t in w_types if t not in r_types and not (t == "integer" and "number" in r_types)
        }
        if refused:
            old, new = self.old_new(sorted(r_types), sorted(w_types))
            self.problems.append(f"{path or '/'}: type {old} became {new}")

    def compare_enums(self, r_leaves: list[Schema], w_leaves: list[Schema], path: str) -> None:
        r_enum, w_enum = _enum(r_leaves), _enum(w_leaves)
        if r_enum is None:
            return
        if w_enum is None:
            became = "became an enum" if self.backward else "is no longer an enum"
            self.problems.append(f"{path or '/'}: {became}")
            return
        unknown = w_enum - r_enum
        if unknown:
            what = "removed" if self.backward else "added (an older reader refuses them)"
            self.problems.append(f"{path or '/'}: enum values {what} {sorted(unknown, key=str)}")

    def compare_bounds(self, r_leaves: list[Schema], w_leaves: list[Schema], path: str) -> None:
        for r_leaf in r_leaves:
            kind = r_leaf.get("type")
            w_leaf = next((w for w in w_leaves if w.get("type") == kind), None)
            if kind in (None, "null") or w_leaf is None:
                continue
            for key in (*_UPPER, *_LOWER):
                limit, given = r_leaf.get(key), w_leaf.get(key)
                if limit is None:
                    continue
                looser = given is None or (given > limit if key in _UPPER else given < limit)
                if looser:
                    old, new = self.old_new(limit, given)
                    self.problems.append(f"{path or '/'}: {key} {old} became {new}")
            # A pattern or a format is matched exactly: which of two is looser is not decided.
            for key in ("pattern", "format"):
                if key in r_leaf and r_leaf[key] != w_leaf.get(key):
                    old, new = self.old_new(r_leaf[key], w_leaf.get(key))
                    self.problems.append(f"{path or '/'}: {key} {old!r} became {new!r}")

    def compare_objects(self, reader: Schema, writer: Schema, path: str) -> None:
        r_props, w_props = reader["properties"], writer["properties"]
        r_required, w_required = set(reader.get("required", ())), set(writer.get("required", ()))
        for name in sorted(r_required - w_required):
            if self.backward:
                why = "became required" if name in w_props else "new required field"
            else:
                why = (
                    "became optional (an older reader requires it)"
                    if name in w_props
                    else "required field removed (an older reader requires it)"
                )
            self.problems.append(f"{path}/{name}: {why}")
        for name in r_props:
            if name in w_props:
                self.compare(r_props[name], w_props[name], f"{path}/{name}")
        if self.backward:
            # A field old producers send that the new schema dropped: the new reader would
            # ignore it, but what it meant would be lost.
            self.problems += [
                f"{path}/{name}: field removed" for name in w_props if name not in r_props
            ]


def backward_incompatibilities(old: Schema, new: Schema) -> list[str]:
    """Why a reader of ``new`` cannot read data valid under ``old`` (empty when it can)."""
    reading = _Reading(new, old, backward=True)
    reading.compare(new, old, "")
    return reading.problems


def forward_incompatibilities(old: Schema, new: Schema) -> list[str]:
    """Why a tolerant reader of ``old`` cannot read data valid under ``new`` (empty when it can)."""
    reading = _Reading(old, new, backward=False)
    reading.compare(old, new, "")
    return reading.problems


def incompatibilities(old: Schema, new: Schema) -> list[str]:
    """Every way ``new`` breaks readers or writers of ``old``, labelled by direction."""
    return [f"backward-incompatible: {p}" for p in backward_incompatibilities(old, new)] + [
        f"forward-incompatible: {p}" for p in forward_incompatibilities(old, new)
    ]


def check_all(directory: Path = SCHEMA_DIR, reader: EventRegistry = registry) -> list[str]:
    """Problems between the committed schemas and the contracts (empty when all is well)."""
    problems = []
    for cls in reader.all_contracts():
        path = directory / schema_filename(cls)
        if not path.exists():
            problems.append(f"{path.name}: not committed (run `jobstream schemas write`)")
            continue
        committed = json.loads(path.read_text())
        problems += [
            f"{path.name}: {issue}" for issue in incompatibilities(committed, generate(cls))
        ]
    return problems
