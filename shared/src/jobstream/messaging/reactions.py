"""Reactions and projections keyed by event class, the same way in every service.

A service writes each reaction as a module-level function whose first parameter is typed
with the event it takes (a union when one function serves several) and whose second is
the :class:`Delivery` it arrived in::

    async def on_job_dispatched(event: JobDispatched, delivery: Delivery[None]) -> None: ...

and gives the consumer ``handlers_by_event(on_job_dispatched, ..., context=...)``. The
event types the consumer subscribes to come from the classes, so there is no hand-typed
string to mistype, and the function receives its event already narrowed, so there is no
``assert isinstance`` at its top. An event whose class does not match the annotation
(a registry or upcaster bug) is refused with a TypeError naming both, which the runner
retries and then dead-letters like any other handler failure.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event
from jobstream.messaging.consumer import Handler
from jobstream.messaging.envelope import Envelope

ContextT = TypeVar("ContextT")
FunctionT = TypeVar("FunctionT", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Delivery(Generic[ContextT]):
    """Where a reaction runs: the batch's connection, the envelope, and the ``context``.

    The context is what the service bound at start-up (its settings, its event store; None
    when it needs none).

    Every effect goes through ``conn`` (the consumer's batch transaction, which also
    records the event id and the offset), so a redelivered event changes nothing.
    """

    conn: AsyncConnection
    envelope: Envelope
    context: ContextT

    @property
    def event_id(self) -> str:
        """The CloudEvents id: the cause of whatever the reaction records."""
        return self.envelope.id

    @property
    def correlation_id(self) -> str | None:
        """The job's correlation id, carried on to what the reaction records."""
        return self.envelope.correlation_id


Reaction = Callable[[Any, Delivery[Any]], Awaitable[None]]


def takes(*classes: type[Event]) -> Callable[[FunctionT], FunctionT]:
    """Name the classes a function takes when its annotation cannot list them.

    For one function that takes a whole family of events, annotated with ``Event``.
    """

    def mark(function: FunctionT) -> FunctionT:
        setattr(function, "__event_classes__", classes)  # noqa: B010 (a function attribute)
        return function

    return mark


def event_classes(reaction: Callable[..., Any]) -> tuple[type[Event], ...]:
    """The event classes ``reaction`` takes.

    Those given to :func:`takes`, else those named by the annotation of its first parameter.
    """
    marked: tuple[type[Event], ...] | None = getattr(reaction, "__event_classes__", None)
    if marked:
        return marked
    first = next(iter(inspect.signature(reaction).parameters), None)
    hints = typing.get_type_hints(reaction)
    annotation = hints.get(first) if first is not None else None
    members = (
        typing.get_args(annotation)
        if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union
        else (annotation,)
    )
    classes = tuple(m for m in members if isinstance(m, type) and issubclass(m, Event))
    if not classes or len(classes) != len(members):
        raise TypeError(
            f"{reaction.__qualname__}: its first parameter must be annotated with event "
            f"classes (got {annotation!r})"
        )
    return classes


def _bound(reaction: Reaction, classes: tuple[type[Event], ...], context: Any) -> Handler:
    async def handle(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.data
        if not isinstance(event, classes):
            taken = " | ".join(c.event_type for c in classes)
            got = getattr(type(event), "event_type", type(event).__name__)
            raise TypeError(
                f"{reaction.__qualname__} takes {taken}, not {got} "
                f"(envelope type {envelope.type!r}, id {envelope.id})"
            )
        await reaction(event, Delivery(conn, envelope, context))

    handle.__qualname__ = reaction.__qualname__
    handle.__doc__ = reaction.__doc__
    return handle


def handlers_by_event(*reactions: Reaction, context: Any = None) -> Mapping[str, Handler]:
    """The consumer's handlers by event type, from reactions typed by their event class.

    Two reactions for one event type are a wiring mistake and refused here, at start-up.
    """
    # One wrapper per reaction, shared by every event type a union annotation names.
    bound = {reaction: _bound(reaction, event_classes(reaction), context) for reaction in reactions}
    return {
        event_type: bound[reaction] for event_type, reaction in by_event_type(*reactions).items()
    }


def by_event_type(*functions: FunctionT) -> dict[str, FunctionT]:
    """Functions (projections of a service's own events) by the event types they take.

    The types are read from the annotation of each one's first parameter, as for reactions.
    """
    found: dict[str, FunctionT] = {}
    for function in functions:
        for cls in event_classes(function):
            if cls.event_type in found:
                raise ValueError(
                    f"two functions for {cls.event_type}: "
                    f"{found[cls.event_type].__qualname__} and {function.__qualname__}"
                )
            found[cls.event_type] = function
    return found
