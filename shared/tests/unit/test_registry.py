"""The contract registry: versions, upcasting, unknown versions and unknown fields.

Writers are strict, readers tolerant (docs/adr/0082): a field a contract does not declare
is refused when the contract is built and dropped when it is read.
"""

from typing import ClassVar

import pytest
from pydantic import BaseModel, ValidationError

from jobstream.contracts import registry
from jobstream.contracts.base import Event, EventRegistry, UnknownSchemaVersionError
from jobstream.contracts.common import GeoPoint, PartSpec, SiteAddress
from jobstream.contracts.intake import WorkOrderReleased
from jobstream.testing.builders import JobStory


def make_registry():
    reg = EventRegistry()

    @reg.register
    class ThingHappenedV1(Event):
        event_type: ClassVar[str] = "ThingHappened"
        schema_version: ClassVar[int] = 1
        topic: ClassVar[str] = "t"
        work_order_id: str
        minutes: int

    @reg.register
    class ThingHappenedV2(Event):
        event_type: ClassVar[str] = "ThingHappened"
        schema_version: ClassVar[int] = 2
        topic: ClassVar[str] = "t"
        work_order_id: str
        seconds: int

    @reg.upcaster("ThingHappened", 1)
    def minutes_to_seconds(data):
        # Everything but the renamed field is carried on, as an upcaster usually does.
        rest = {k: v for k, v in data.items() if k != "minutes"}
        return {**rest, "seconds": data["minutes"] * 60}

    return reg, ThingHappenedV2


def test_old_versions_are_upcast_to_the_current_one():
    reg, v2 = make_registry()
    event = reg.parse("ThingHappened", 1, {"work_order_id": "wo-1", "minutes": 2})
    assert isinstance(event, v2)
    assert event.seconds == 120


def test_a_newer_version_than_the_reader_knows_is_refused():
    reg, _ = make_registry()
    with pytest.raises(UnknownSchemaVersionError, match="unknown schema version 3"):
        reg.parse("ThingHappened", 3, {"work_order_id": "wo-1", "seconds": 1})


def test_registering_the_same_version_twice_fails():
    reg, v2 = make_registry()
    with pytest.raises(ValueError, match="registered twice"):
        reg.register(v2)


def test_events_are_frozen_and_refuse_unknown_fields():
    _, v2 = make_registry()
    event = v2(work_order_id="wo-1", seconds=1)
    with pytest.raises(Exception, match="frozen"):
        event.seconds = 2  # type: ignore[misc]
    with pytest.raises(Exception, match="extra"):
        v2(work_order_id="wo-1", seconds=1, colour="red")


def test_reading_drops_fields_this_release_does_not_know():
    reg, v2 = make_registry()
    event = reg.parse("ThingHappened", 2, {"work_order_id": "wo-1", "seconds": 1, "colour": "red"})
    assert event == v2(work_order_id="wo-1", seconds=1)
    assert event.model_dump() == {"work_order_id": "wo-1", "seconds": 1}
    assert event.model_extra is None


def test_reading_an_old_version_with_unknown_fields_upcasts_and_drops_them():
    reg, v2 = make_registry()
    event = reg.parse("ThingHappened", 1, {"work_order_id": "wo-1", "minutes": 1, "colour": "red"})
    assert event == v2(work_order_id="wo-1", seconds=60)


def test_reading_json_text_drops_unknown_fields_too():
    _, v2 = make_registry()
    text = '{"work_order_id": "wo-1", "seconds": 1, "colour": "red"}'
    assert v2.read_json(text) == v2(work_order_id="wo-1", seconds=1)
    with pytest.raises(ValidationError, match="extra"):
        v2.model_validate_json(text)


def test_reading_still_validates_the_fields_it_knows():
    reg, _ = make_registry()
    with pytest.raises(ValidationError, match="seconds"):
        reg.parse("ThingHappened", 2, {"work_order_id": "wo-1", "seconds": "soon", "x": 1})


def test_a_newer_version_with_only_known_fields_is_still_refused():
    reg, _ = make_registry()
    with pytest.raises(UnknownSchemaVersionError, match="unknown schema version 3"):
        reg.parse("ThingHappened", 3, {"work_order_id": "wo-1", "seconds": 1})


def test_unknown_fields_are_dropped_at_every_depth_of_a_real_contract():
    """A newer intake adds fields to the site and the parts inside the released details."""
    story = JobStory()
    parts = (PartSpec(sku="valve-22", description="22 mm valve", quantity_milli=1000),)
    released = story.released().model_copy(
        update={"details": story.details().model_copy(update={"parts": parts})}
    )
    data = released.model_dump(mode="json")
    data["details"]["site"]["floor"] = 3
    data["details"]["parts"][0]["bin"] = "A4"
    data["release_note"] = "a new top-level field"
    assert registry.parse("WorkOrderReleased", 1, data) == released


def test_building_a_real_contract_with_an_unknown_field_is_refused():
    """A producer's mistake stays a mistake: only reading is tolerant."""
    with pytest.raises(ValidationError, match="extra"):
        WorkOrderReleased.model_validate(
            {
                "work_order_id": "wo-1",
                "details": JobStory().details().model_dump(mode="json"),
                "released_at": "2026-12-05T09:00:00Z",
                "released_by": "office-1",
                "colour": "red",
            }
        )
    with pytest.raises(ValidationError, match="extra"):
        SiteAddress(
            site_id="s-1",
            address="1 High St",
            location=GeoPoint(lat=51.5, lon=-0.1),
            floor=3,  # type: ignore[call-arg]
        )


def _with_unknown_fields(value: object, data: object, depth: int = 0) -> list[int]:
    """Add a field no release declares to every model in ``data``; the depth of each."""
    if isinstance(value, BaseModel):
        assert isinstance(data, dict)
        data["added_by_a_later_release"] = {"nested": [1, "two"]}
        depths = [depth]
        for name in type(value).model_fields:
            depths += _with_unknown_fields(getattr(value, name), data[name], depth + 1)
        return depths
    if isinstance(value, list | tuple):
        assert isinstance(data, list)
        return [
            d
            for v, item in zip(value, data, strict=True)
            for d in _with_unknown_fields(v, item, depth + 1)
        ]
    if isinstance(value, dict):
        assert isinstance(data, dict)
        return [
            d for k, v in value.items() for d in _with_unknown_fields(v, data[str(k)], depth + 1)
        ]
    return []


def test_every_model_inside_every_story_event_drops_an_unknown_field_on_read():
    """Nested models, optional ones and lists of them: pydantic's read-time extra reaches all."""
    story = JobStory()
    start = story.start
    story_events = [
        *story.lifecycle(),
        story.technician_registered(),
        story.time_logged(),
        story.material_used(),
        story.cancelled(start),
        story.credited_at(start, net_minor=1000),
    ]
    depths: list[int] = []
    for event in story_events:
        data = event.model_dump(mode="json")
        depths += _with_unknown_fields(event, data)
        assert registry.parse(event.event_type, event.schema_version, data) == event
    # The story reaches models inside lists inside models, not only the top level.
    assert max(depths) >= 3
    assert len(depths) > 2 * len(story_events)
