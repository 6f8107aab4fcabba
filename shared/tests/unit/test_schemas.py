"""Committed JSON Schemas match the contracts, and a breaking change is caught."""

import copy

from jobstream.contracts import registry
from jobstream.contracts.intake import RequestLogged
from jobstream.contracts.schemas import check_all, generate, incompatibilities


def test_committed_schemas_are_compatible_with_the_contracts():
    assert check_all(reader=registry) == []


def test_removing_a_field_is_incompatible():
    old = generate(RequestLogged)
    new = copy.deepcopy(old)
    del new["properties"]["description"]
    new["required"].remove("description")
    assert any("description: field removed" in p for p in incompatibilities(old, new))


def test_a_new_required_field_is_incompatible():
    old = generate(RequestLogged)
    new = copy.deepcopy(old)
    new["properties"]["colour"] = {"type": "string"}
    new["required"].append("colour")
    assert any("colour: new required field" in p for p in incompatibilities(old, new))


def test_changing_a_type_is_incompatible():
    old = generate(RequestLogged)
    new = copy.deepcopy(old)
    new["properties"]["description"] = {"type": "integer"}
    assert any("description: type" in p for p in incompatibilities(old, new))


def test_dropping_an_enum_value_is_incompatible():
    old = generate(RequestLogged)
    new = copy.deepcopy(old)
    new["$defs"]["Priority"]["enum"].remove("P4")
    assert any("enum values removed" in p for p in incompatibilities(old, new))


def test_adding_an_optional_field_is_compatible():
    old = generate(RequestLogged)
    new = copy.deepcopy(old)
    new["properties"]["colour"] = {"type": "string"}
    assert incompatibilities(old, new) == []
