"""Deterministic ids: a reaction replayed from the log produces the same ids again."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("5f0c7a8e-5b7a-4c55-9d4e-6a6f6273746d")


def derived_id(*parts: str) -> str:
    """A UUID determined by ``parts`` (e.g. the causing event id and what is derived)."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))
