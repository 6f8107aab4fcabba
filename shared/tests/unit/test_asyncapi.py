"""The AsyncAPI document: current with the contracts, valid AsyncAPI 3.0, refs resolve."""

import json
from pathlib import Path

import jsonschema
import pytest

from jobstream.contracts import registry
from jobstream.contracts.asyncapi import ASYNCAPI_PATH, build, render

# The official AsyncAPI 3.0.0 JSON Schema (npm @asyncapi/specs 6.11.1,
# schemas/3.0.0-without-$id.json, Apache-2.0), vendored because tests run offline.
SPEC_SCHEMA = json.loads(
    (Path(__file__).parents[1] / "data" / "asyncapi-3.0.0.schema.json").read_text()
)


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(document, ref):
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_the_committed_document_is_current():
    assert ASYNCAPI_PATH.read_text() == render(build()), "run: uv run jobstream asyncapi --write"


def test_the_document_is_valid_asyncapi_3():
    jsonschema.Draft7Validator(SPEC_SCHEMA).validate(build())


def test_the_validator_would_catch_a_broken_document():
    broken = build()
    broken["channels"]["workordersField"]["address"] = 42
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SPEC_SCHEMA).validate(broken)


def test_every_reference_resolves_inside_the_document():
    document = build()
    for ref in set(refs(document)):
        assert ref.startswith("#/"), ref
        resolve(document, ref)


def test_every_event_type_is_a_message_on_its_topic():
    document = build()
    addresses = {c["address"]: c for c in document["channels"].values()}
    for cls in registry.all_contracts():
        channel = addresses[cls.topic]
        assert f"{cls.event_type}V{cls.schema_version}" in channel["messages"]
