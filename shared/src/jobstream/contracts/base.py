"""Event contracts: frozen pydantic models with a type and a schema version, in a registry.

Every event type has one class per schema version (``JobScheduledV1``). Readers ask the
registry for the current version; older payloads are upcast on the way in.

Writers are strict and readers tolerant (docs/adr/0082): building a contract refuses a
field it does not declare, while reading one (:meth:`Contract.read`, which the registry
uses for everything consumed or loaded) drops fields it does not know, at every depth, so
a newer producer that added an optional field is still understood by an older consumer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Times on the wire are timezone-aware and normalised to UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class Contract(BaseModel):
    """A frozen value on the wire: refuses unknown fields when built, ignores them when read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def read(cls, data: Any) -> Self:
        """Validate ``data`` written by any release: fields this one does not know are dropped.

        Everything else is validated as strictly as when the value is built. Dropped rather
        than carried: what this process then writes (its own events, read models,
        snapshots) holds only fields it validated, so an unknown field never travels on
        unchecked under another producer's name.
        """
        return cls.model_validate(data, extra="ignore")

    @classmethod
    def read_json(cls, text: str | bytes) -> Self:
        """:meth:`read` from JSON text (a row's JSON column read as text)."""
        return cls.model_validate_json(text, extra="ignore")


class Event(Contract):
    """A fact that happened. Subclasses set the class variables below."""

    event_type: ClassVar[str]
    schema_version: ClassVar[int]
    topic: ClassVar[str]
    # The field holding the aggregate id: it becomes the Kafka key and `ce_subject`.
    subject_field: ClassVar[str] = "work_order_id"

    @property
    def subject(self) -> str:
        """The aggregate this event belongs to."""
        return str(getattr(self, self.subject_field))


class UnknownEventTypeError(LookupError):
    """No contract is registered under this type."""


class UnknownSchemaVersionError(LookupError):
    """The type is known but this schema version is not (newer than this reader, or bogus)."""


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
E = TypeVar("E", bound=type[Event])


class EventRegistry:
    """Maps (type, schema version) to contract classes, and upcasts old versions."""

    def __init__(self) -> None:
        """An empty registry."""
        self._classes: dict[tuple[str, int], type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: E) -> E:
        """Class decorator: add a contract to the registry."""
        key = (cls.event_type, cls.schema_version)
        if key in self._classes:
            raise ValueError(f"{cls.event_type} v{cls.schema_version} registered twice")
        self._classes[key] = cls
        return cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: a function turning ``from_version`` data into ``from_version + 1`` data."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return decorate

    def current_version(self, event_type: str) -> int:
        """The newest schema version this reader knows for ``event_type``."""
        versions = [v for (t, v) in self._classes if t == event_type]
        if not versions:
            raise UnknownEventTypeError(f"unknown event type {event_type!r}")
        return max(versions)

    def contract(self, event_type: str, schema_version: int) -> type[Event]:
        """The class of one exact version."""
        try:
            return self._classes[(event_type, schema_version)]
        except KeyError:
            self.current_version(event_type)  # raises UnknownEventTypeError first when apt
            raise UnknownSchemaVersionError(
                f"unknown schema version {schema_version} for {event_type}"
            ) from None

    def parse(self, event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
        """Read ``data`` (see :meth:`Contract.read`) at the current version of ``event_type``.

        Older versions are upcast first; a version newer than this reader knows, or one
        with no upcaster, raises UnknownSchemaVersionError: fields may be added within a
        version, but a new version changes meaning, and guessing it would be worse.
        """
        current = self.current_version(event_type)
        self.contract(event_type, schema_version)
        if schema_version > current:
            raise UnknownSchemaVersionError(
                f"unknown schema version {schema_version} for {event_type}"
            )
        version = schema_version
        while version < current:
            upcast = self._upcasters.get((event_type, version))
            if upcast is None:
                raise UnknownSchemaVersionError(f"no upcaster for {event_type} v{version}")
            data = upcast(data)
            version += 1
        return self._classes[(event_type, current)].read(data)

    def all_contracts(self) -> list[type[Event]]:
        """Every registered class, sorted by type then version."""
        return [self._classes[k] for k in sorted(self._classes)]


registry = EventRegistry()
