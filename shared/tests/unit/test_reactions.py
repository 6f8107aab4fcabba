"""Reactions keyed by the event class in their signature (messaging/reactions.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from jobstream.contracts.base import Event
from jobstream.contracts.field import TechnicianLocated
from jobstream.contracts.intake import WorkOrderCancelled
from jobstream.messaging.envelope import Envelope
from jobstream.messaging.reactions import (
    Delivery,
    by_event_type,
    event_classes,
    handlers_by_event,
    takes,
)

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
seen: list[tuple[str, Any]] = []


async def on_cancelled(event: WorkOrderCancelled, delivery: Delivery[str]) -> None:
    seen.append((event.work_order_id, delivery.context))


async def on_either(
    event: WorkOrderCancelled | TechnicianLocated, delivery: Delivery[None]
) -> None:
    seen.append((type(event).__name__, delivery.event_id))


@takes(WorkOrderCancelled)
async def on_any(event: Event, delivery: Delivery[None]) -> None:
    seen.append(("any", event.event_type))


async def untyped(event, delivery) -> None:  # type: ignore[no-untyped-def]
    """No annotation: it cannot say what it takes."""


def cancelled() -> WorkOrderCancelled:
    return WorkOrderCancelled(
        work_order_id="wo-1", reason="customer rang", cancelled_by="office", cancelled_at=AT
    )


async def test_a_reaction_is_keyed_by_its_annotated_class_and_gets_the_event_narrowed():
    seen.clear()
    handlers = handlers_by_event(on_cancelled, context="bound")
    assert set(handlers) == {"WorkOrderCancelled"}
    await handlers["WorkOrderCancelled"](None, Envelope.new(cancelled(), source="test"))  # type: ignore[arg-type]
    assert seen == [("wo-1", "bound")]


def test_a_union_registers_every_member_and_takes_overrides_the_annotation():
    assert set(handlers_by_event(on_either)) == {"WorkOrderCancelled", "TechnicianLocated"}
    assert event_classes(on_any) == (WorkOrderCancelled,)


def test_wiring_mistakes_are_refused_at_start_up():
    with pytest.raises(TypeError, match="annotated with event classes"):
        handlers_by_event(untyped)
    with pytest.raises(ValueError, match="two functions for WorkOrderCancelled"):
        handlers_by_event(on_cancelled, on_either)
    with pytest.raises(ValueError, match="two functions"):
        by_event_type(on_cancelled, on_any)


async def test_an_event_of_another_class_under_the_key_is_refused_by_name():
    handler = handlers_by_event(on_cancelled)["WorkOrderCancelled"]
    envelope = Envelope.new(cancelled(), source="test")
    wrong = TechnicianLocated.model_construct()
    envelope = dataclasses.replace(envelope, data=wrong)
    with pytest.raises(
        TypeError, match="on_cancelled takes WorkOrderCancelled, not TechnicianLocated"
    ):
        await handler(None, envelope)  # type: ignore[arg-type]
