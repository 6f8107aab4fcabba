"""Command handlers registered by the command's type, as reactions are by the event's.

A service's ``handlers.py`` ends with ``HANDLERS = CommandHandlers(verb, ...)``: each
handler is ``async def verb(cmd: SomeCommand, ctx) -> result``, and the class in its first
parameter's annotation is the command it handles. ``HANDLERS.handle(cmd, ctx)`` runs the
one registered for ``type(cmd)``; a route that wants the handler's typed result may call the
handler itself. Two handlers for one command type are refused at import.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

Handler = Callable[[Any, Any], Awaitable[Any]]


def command_class(handler: Callable[..., Any]) -> type:
    """The command class ``handler`` takes: its first parameter's annotation."""
    first = next(iter(inspect.signature(handler).parameters), None)
    annotation = typing.get_type_hints(handler).get(first) if first is not None else None
    if not isinstance(annotation, type):
        raise TypeError(
            f"{handler.__qualname__}: its first parameter must be annotated with the command "
            f"class it handles (got {annotation!r})"
        )
    return annotation


class CommandHandlers:
    """A service's command handlers, by the command class each one takes."""

    def __init__(self, *handlers: Handler) -> None:
        """Register ``handlers``, refusing two for one command class."""
        found: dict[type, Handler] = {}
        for handler in handlers:
            kind = command_class(handler)
            if kind in found:
                raise ValueError(
                    f"two handlers for {kind.__name__}: "
                    f"{found[kind].__qualname__} and {handler.__qualname__}"
                )
            found[kind] = handler
        self.by_type: Mapping[type, Handler] = found

    async def handle(self, cmd: object, ctx: object) -> Any:
        """Run the handler registered for ``type(cmd)``."""
        handler = self.by_type.get(type(cmd))
        if handler is None:
            raise TypeError(f"no handler for {type(cmd).__name__}")
        return await handler(cmd, ctx)
