"""The object store interface."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from jobstream.objectstore.settings import ObjectStoreSettings

# Keys are chosen by the services (e.g. "attachments/<id>"), never by a client, but are
# still checked so that a bug can never reach outside the store.
_KEY = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")


class ObjectNotFoundError(LookupError):
    """No object under this key."""


@dataclass(frozen=True)
class StoredObject:
    """What was stored: the identity an event carries."""

    key: str
    content_type: str
    size_bytes: int
    sha256: str


def check_key(key: str) -> str:
    """``key`` if it is a safe relative path of plain segments."""
    if not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"invalid object key {key!r}")
    return key


def describe(key: str, content_type: str, data: bytes) -> StoredObject:
    """The identity of ``data`` stored under ``key``."""
    return StoredObject(key, content_type, len(data), hashlib.sha256(data).hexdigest())


class ObjectStore(Protocol):
    """Put, get and check objects by key. Putting the same bytes twice is harmless."""

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        """Store ``data`` under ``key`` (replacing any previous bytes)."""
        ...

    async def get(self, key: str) -> tuple[bytes, str]:
        """(bytes, content type); raises ObjectNotFoundError."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether ``key`` holds an object."""
        ...


def object_store_from_settings(settings: ObjectStoreSettings | None = None) -> ObjectStore:
    """The configured backend."""
    settings = settings or ObjectStoreSettings()
    if settings.backend == "local":
        from jobstream.objectstore.local import LocalObjectStore

        return LocalObjectStore(settings.local_root)
    from jobstream.objectstore.s3 import S3ObjectStore

    return S3ObjectStore(
        settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=(
            settings.s3_access_key_id.get_secret_value() if settings.s3_access_key_id else None
        ),
        secret_access_key=(
            settings.s3_secret_access_key.get_secret_value()
            if settings.s3_secret_access_key
            else None
        ),
    )
