"""Where attachments live: photos, signatures, email attachments.

Events carry an attachment's id, content type, size and sha256, never its bytes.

``ObjectStore`` is the interface; ``LocalObjectStore`` (a directory) is the default and
``object_store_from_settings`` picks the backend from ``ObjectStoreSettings``.
"""

from jobstream.objectstore.base import (
    ObjectNotFoundError,
    ObjectStore,
    StoredObject,
    object_store_from_settings,
)
from jobstream.objectstore.local import LocalObjectStore
from jobstream.objectstore.settings import ObjectStoreSettings

__all__ = [
    "LocalObjectStore",
    "ObjectNotFoundError",
    "ObjectStore",
    "ObjectStoreSettings",
    "StoredObject",
    "object_store_from_settings",
]
