"""The refusals a command can meet, in words a domain can use (no HTTP here).

Domain and handler code raise these; the HTTP layer (``jobstream.api.errors``) turns them
into one documented answer each, so no status code is written outside ``api/``:

- ``InvalidInputError``: the input is wrong (422, naming the field);
- ``ConflictError``: the input is fine but the current state does not allow it (409);
- ``NotFoundError``: what the command is about does not exist, or is not the caller's (404).

A service's own exceptions subclass one of them (intake's ``InvalidTransitionError`` is a
``ConflictError``) so that a test can say which kind of refusal it expects.
"""

from __future__ import annotations

from typing import Any


class RefusedError(Exception):
    """A command the domain refuses; ``field`` names the input at fault, if one is.

    ``facts`` are what the caller needs to act on the refusal (the constraints broken,
    the reasons no slot was found); they travel in the answer beside the message.
    """

    def __init__(self, message: str, *, field: str | None = None, **facts: Any) -> None:
        """Refuse with ``message``, naming ``field`` and carrying ``facts`` if given."""
        super().__init__(message)
        self.message = message
        self.field = field
        self.facts = facts


class InvalidInputError(RefusedError, ValueError):
    """The command's input is wrong: a value out of range, an unknown reference.

    ``location`` says where the input came from (``body``, ``query``, ``header``);
    ``kind`` is the machine-readable reason (``value_error`` unless a client needs more).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        location: str = "body",
        kind: str = "value_error",
        **facts: Any,
    ) -> None:
        """Refuse ``field`` (found in ``location``) with ``message``."""
        super().__init__(message, field=field, **facts)
        self.location = location
        self.kind = kind


class ConflictError(RefusedError):
    """The current state does not allow the command (already released, frozen, taken)."""


class NotFoundError(RefusedError, LookupError):
    """What the command names does not exist, or is not the caller's to see."""
