"""The contract registry: versions, upcasting and unknown versions."""

from typing import ClassVar

import pytest

from jobstream.contracts.base import Event, EventRegistry, UnknownSchemaVersionError


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
        return {"work_order_id": data["work_order_id"], "seconds": data["minutes"] * 60}

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
