"""Event contracts of every service; importing this package registers them all."""

from jobstream.contracts import billing, dispatch, field, intake
from jobstream.contracts.base import Event, EventRegistry, registry

__all__ = ["Event", "EventRegistry", "billing", "dispatch", "field", "intake", "registry"]
