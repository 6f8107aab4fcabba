"""The OpenAPI document describes every endpoint, with request and response examples."""

from typing import Any

import pytest

from jobstream.intake.app import definition
from jobstream.service import Role, create_app

OWN_PATHS_EXCLUDED = {"/healthz", "/readyz", "/metrics"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    app = create_app(definition(), frozenset({Role.API}))
    return app.openapi()


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in schema:  # an optional body: the non-null option
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    if schema.get("type") == "array":
        return resolve(spec, schema["items"])
    return schema


def has_example(spec: dict[str, Any], media: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    schema = resolve(spec, media.get("schema", {}))
    return bool(schema.get("examples") or schema.get("example"))


def operations(spec: dict[str, Any]):
    for path, methods in spec["paths"].items():
        if path in OWN_PATHS_EXCLUDED:
            continue
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_has_a_summary_and_a_description(spec):
    missing = [
        name for name, op in operations(spec) if not op.get("summary") or not op.get("description")
    ]
    assert missing == []


def test_every_request_body_has_an_example(spec):
    missing = [
        name
        for name, op in operations(spec)
        if "requestBody" in op
        and not all(has_example(spec, media) for media in op["requestBody"]["content"].values())
    ]
    assert missing == []


def test_every_success_response_has_an_example(spec):
    missing = []
    for name, op in operations(spec):
        for code, response in op["responses"].items():
            media_types = response.get("content", {}).values() if code.startswith("2") else ()
            if not all(has_example(spec, media) for media in media_types):
                missing.append(f"{name} {code}")
    assert missing == []


def test_error_responses_are_documented(spec):
    undocumented = [name for name, op in operations(spec) if "401" not in op["responses"]]
    assert undocumented == []


def test_the_inbound_email_endpoint_takes_a_raw_message(spec):
    body = spec["paths"]["/inbound/email"]["post"]["requestBody"]["content"]
    assert "message/rfc822" in body
