"""Photos sent with a request from the portal or the office (pure; no I/O).

Whose they are, where they are kept, what they are called and what their bytes must look like.

An upload is kept under ``intake/uploads/<uploader>/<sha256>.<ext>``: the uploader is the
customer (their id) or ``office``, so a request may only carry its own customer's files, and
the same bytes uploaded twice are one object.
"""

from __future__ import annotations

import hashlib
import re

UPLOADS = "intake/uploads"
OFFICE = "office"
# The photo types a request may carry, with the extension their key ends in (SVG is never
# one of them: it can carry script).
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
PHOTO_TYPE_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}
MAX_FILENAME = 100

_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]*$")
_NOT_IN_FILENAME = re.compile(r"[^A-Za-z0-9._ \-]+")


def uploader(customer_id: str | None) -> str:
    """The key segment of whoever uploads: the customer's id, or ``office``."""
    if customer_id is None:
        return OFFICE
    if _KEY_SEGMENT.match(customer_id) and customer_id != OFFICE:
        return customer_id
    # An id a key cannot hold (a ":"), or one that would read as the office's: its digest.
    return "id-" + hashlib.sha256(customer_id.encode()).hexdigest()[:40]


def uploads_of(customer_id: str | None) -> str:
    """The key prefix a request of this caller may take files from.

    A customer's own uploads, or (the office, ``None``) anyone's.
    """
    if customer_id is None:
        return f"{UPLOADS}/"
    return f"{UPLOADS}/{uploader(customer_id)}/"


def upload_key(customer_id: str | None, sha256: str, content_type: str) -> str:
    """Where an upload of these bytes by this caller is kept."""
    return f"{UPLOADS}/{uploader(customer_id)}/{sha256}.{PHOTO_TYPES[content_type]}"


def photo_filename(given: str | None, content_type: str) -> str:
    """A harmless file name: the last path segment of what the client said, plain characters only.

    ``photo.<ext>`` when nothing is left.
    """
    fallback = f"photo.{PHOTO_TYPES[content_type]}"
    if not given:
        return fallback
    name = given.replace("\\", "/").rsplit("/", 1)[-1]
    name = _NOT_IN_FILENAME.sub("_", name).strip(" ._-")
    return name[:MAX_FILENAME].rstrip(" .") or fallback


def looks_like(data: bytes, content_type: str) -> bool:
    """Whether the bytes start as a file of this photo type does."""
    if content_type == "image/jpeg":
        return data.startswith(b"\xff\xd8\xff")
    if content_type == "image/png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if content_type == "image/webp":
        # "RIFF", the size (4 bytes), "WEBP"; a shorter file's slice cannot equal b"WEBP".
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return False
