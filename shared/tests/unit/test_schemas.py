"""Committed JSON Schemas match the contracts, and a breaking change is caught both ways.

Backward: a new reader must read what the committed schema allowed old producers to write.
Forward: an old reader (which ignores unknown fields) must read what the new schema allows
new producers to write. Each direction is tested on its own, on mutated real schemas and
on a real "next release" of a contract.
"""

import copy
from typing import ClassVar

from jobstream.contracts import registry
from jobstream.contracts.base import Event
from jobstream.contracts.intake import RequestLogged
from jobstream.contracts.schemas import (
    backward_incompatibilities,
    check_all,
    forward_incompatibilities,
    generate,
    incompatibilities,
)


def mutated(change):
    old = generate(RequestLogged)
    new = copy.deepcopy(old)
    change(new)
    return old, new


def test_committed_schemas_are_compatible_with_the_contracts():
    assert check_all(reader=registry) == []


def test_an_unchanged_schema_is_compatible_both_ways():
    old = generate(RequestLogged)
    assert incompatibilities(old, copy.deepcopy(old)) == []


# -- what both directions accept ------------------------------------------------------


def test_adding_an_optional_field_is_compatible_both_ways():
    old, new = mutated(lambda s: s["properties"].update(colour={"type": "string"}))
    assert incompatibilities(old, new) == []


def test_a_next_release_adding_an_optional_field_is_compatible_both_ways():
    class RequestLoggedNext(RequestLogged):
        colour: str | None = None

    assert incompatibilities(generate(RequestLogged), generate(RequestLoggedNext)) == []


def test_loosening_a_default_or_a_description_is_compatible():
    def change(s):
        s["properties"]["customer_name"]["default"] = "someone"
        s["properties"]["description"]["description"] = "what is wrong, in the caller's words"

    assert incompatibilities(*mutated(change)) == []


# -- backward: the new reader cannot read old events -----------------------------------


def test_removing_a_field_is_backward_incompatible():
    def change(s):
        del s["properties"]["description"]
        s["required"].remove("description")

    old, new = mutated(change)
    assert "/description: field removed" in backward_incompatibilities(old, new)


def test_a_new_required_field_is_backward_incompatible():
    def change(s):
        s["properties"]["colour"] = {"type": "string"}
        s["required"].append("colour")

    old, new = mutated(change)
    assert backward_incompatibilities(old, new) == ["/colour: new required field"]
    # An old reader ignores the new field: forward, nothing breaks.
    assert forward_incompatibilities(old, new) == []


def test_an_optional_field_becoming_required_is_backward_incompatible():
    old, new = mutated(lambda s: s["required"].append("customer_name"))
    assert backward_incompatibilities(old, new) == ["/customer_name: became required"]
    assert forward_incompatibilities(old, new) == []


def test_changing_a_type_is_incompatible_both_ways():
    old, new = mutated(lambda s: s["properties"].update(description={"type": "integer"}))
    assert any("/description: type" in p for p in backward_incompatibilities(old, new))
    assert any("/description: type" in p for p in forward_incompatibilities(old, new))


def test_dropping_an_enum_value_is_backward_incompatible():
    old, new = mutated(lambda s: s["$defs"]["Priority"]["enum"].remove("P4"))
    assert backward_incompatibilities(old, new) == ["/priority: enum values removed ['P4']"]
    assert forward_incompatibilities(old, new) == []


def test_tightening_a_length_is_backward_incompatible():
    old, new = mutated(lambda s: s["properties"]["description"].update(maxLength=100))
    assert backward_incompatibilities(old, new) == ["/description: maxLength 5000 became 100"]
    assert forward_incompatibilities(old, new) == []


def test_a_required_field_added_inside_an_optional_nested_object_is_caught():
    """``contact`` is ``Contact | None``: the check looks inside the union's object."""

    def change(s):
        s["$defs"]["Contact"]["properties"]["role"] = {"type": "string"}
        s["$defs"]["Contact"]["required"].append("role")

    old, new = mutated(change)
    assert backward_incompatibilities(old, new) == ["/contact/role: new required field"]


# -- forward: an old reader cannot read new events -------------------------------------


def test_adding_an_enum_value_is_forward_incompatible():
    old, new = mutated(lambda s: s["$defs"]["Priority"]["enum"].append("P5"))
    assert forward_incompatibilities(old, new) == [
        "/priority: enum values added (an older reader refuses them) ['P5']"
    ]
    assert backward_incompatibilities(old, new) == []


def test_a_required_field_becoming_nullable_is_forward_incompatible():
    def change(s):
        s["properties"]["description"] = {
            "anyOf": [{"type": "string", "minLength": 1, "maxLength": 5000}, {"type": "null"}]
        }

    old, new = mutated(change)
    assert forward_incompatibilities(old, new) == [
        "/description: type ['string'] became ['null', 'string']"
    ]
    assert backward_incompatibilities(old, new) == []


def test_a_required_field_becoming_optional_is_forward_incompatible():
    old, new = mutated(lambda s: s["required"].remove("description"))
    assert forward_incompatibilities(old, new) == [
        "/description: became optional (an older reader requires it)"
    ]
    assert backward_incompatibilities(old, new) == []


def test_removing_a_required_field_is_incompatible_both_ways():
    def change(s):
        del s["properties"]["description"]
        s["required"].remove("description")

    old, new = mutated(change)
    assert forward_incompatibilities(old, new) == [
        "/description: required field removed (an older reader requires it)"
    ]
    assert backward_incompatibilities(old, new) == ["/description: field removed"]


def test_loosening_a_length_is_forward_incompatible():
    old, new = mutated(lambda s: s["properties"]["description"].update(maxLength=10_000))
    assert forward_incompatibilities(old, new) == ["/description: maxLength 5000 became 10000"]
    assert backward_incompatibilities(old, new) == []


def test_a_pattern_loosened_deep_inside_a_list_is_caught():
    """``attachments`` is a list of AttachmentRef; a looser item pattern breaks old readers."""
    old, new = mutated(
        lambda s: s["$defs"]["AttachmentRef"]["properties"]["sha256"].update(pattern="^.*$")
    )
    assert forward_incompatibilities(old, new) == [
        "/attachments[]/sha256: pattern '^[0-9a-f]{64}$' became '^.*$'"
    ]


def test_a_changed_format_is_incompatible_both_ways():
    old, new = mutated(lambda s: s["properties"]["logged_at"].update(format="date"))
    assert forward_incompatibilities(old, new) == ["/logged_at: format 'date-time' became 'date'"]
    assert backward_incompatibilities(old, new) == ["/logged_at: format 'date-time' became 'date'"]


# -- what the check cannot compare is reported, not passed ------------------------------


def test_a_union_of_two_objects_is_reported_not_passed_unread():
    """Contact or SiteAddress: which old object a new one matches is not decided here."""

    def change(s):
        s["properties"]["contact"]["anyOf"].append({"$ref": "#/$defs/SiteAddress"})

    old, new = mutated(change)
    union = "/contact: a union of several schemas with properties, which this check cannot match up"
    assert union in forward_incompatibilities(old, new)
    assert union in backward_incompatibilities(old, new)


def test_a_keyword_the_check_does_not_follow_is_reported():
    def change(s):
        s["properties"]["description"] = {"oneOf": [{"type": "string"}, {"type": "integer"}]}

    old, new = mutated(change)
    assert (
        "/description: uses ['oneOf'], which this check does not compare"
        in forward_incompatibilities(old, new)
    )


def test_a_next_release_widening_an_enum_is_caught_through_check_all(tmp_path):
    """The committed file is the old release; the registered class is the next one."""
    from enum import StrEnum

    from jobstream.contracts.base import EventRegistry
    from jobstream.contracts.schemas import write_all

    class Colour(StrEnum):
        RED = "red"

    class ColourNext(StrEnum):
        RED = "red"
        BLUE = "blue"

    def release(colour_type):
        reader = EventRegistry()

        @reader.register
        class PaintedV1(Event):
            event_type: ClassVar[str] = "Painted"
            schema_version: ClassVar[int] = 1
            topic: ClassVar[str] = "t"
            work_order_id: str
            colour: colour_type  # type: ignore[valid-type]

        return reader

    write_all(tmp_path, release(Colour))
    assert check_all(tmp_path, release(Colour)) == []
    assert check_all(tmp_path, release(ColourNext)) == [
        "Painted.v1.json: forward-incompatible: /colour: enum values added "
        "(an older reader refuses them) ['blue']"
    ]
