"""The default object store: a directory on local (or mounted network) disk."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

from jobstream.objectstore.base import ObjectNotFoundError, StoredObject, check_key, describe


class LocalObjectStore:
    """Objects as files under ``root``; the content type in a ``.meta.json`` beside each.

    Writes go to a temporary file that is renamed into place, so a crash never leaves a
    half-written object under its key.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Objects under the directory ``root``, made as objects are put in it."""
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _put_sync(self, key: str, data: bytes, content_type: str) -> StoredObject:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"content_type": content_type}).encode()
        for target, payload in ((path.with_name(path.name + ".meta.json"), meta), (path, data)):
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(payload)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return describe(key, content_type, data)

    def _get_sync(self, key: str) -> tuple[bytes, str]:
        path = self._path(key)
        try:
            data = path.read_bytes()
            meta = json.loads(path.with_name(path.name + ".meta.json").read_text())
        except FileNotFoundError as exc:
            raise ObjectNotFoundError(key) from exc
        return data, str(meta["content_type"])

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        """Store ``data`` under ``key``."""
        return await asyncio.to_thread(self._put_sync, key, data, content_type)

    async def get(self, key: str) -> tuple[bytes, str]:
        """(bytes, content type); raises ObjectNotFoundError."""
        return await asyncio.to_thread(self._get_sync, key)

    async def exists(self, key: str) -> bool:
        """Whether ``key`` holds an object."""
        return await asyncio.to_thread(self._path(key).is_file)
