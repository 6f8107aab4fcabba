"""The S3-compatible object store (AWS S3, MinIO, Ceph …), over aiobotocore.

Selected with ``JOBSTREAM_OBJECT_STORE=s3``; needs the ``s3`` extra of jobstream-shared.
Every put sends the body's SHA-256 (``ChecksumSHA256``) so the server refuses bytes damaged
on the way, and records it as object metadata so that every get is checked end to end.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from jobstream.objectstore.base import ObjectNotFoundError, StoredObject, check_key, describe

try:
    from aiobotocore.session import get_session
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the s3 object store needs the s3 extra: install jobstream-shared[s3]"
    ) from exc

SHA256_METADATA = "sha256"
NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class CorruptObjectError(IOError):
    """The bytes read back do not match the checksum recorded when they were stored."""


class S3ObjectStore:
    """Objects in one bucket; keys are used as given (already checked to be plain paths)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        """Objects in ``bucket`` (required); the other arguments configure the S3 client."""
        if not bucket:
            raise ValueError("the s3 object store needs a bucket (JOBSTREAM_S3_BUCKET)")
        self.bucket = bucket
        self._session = get_session()
        self._client_args: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "region_name": region or "us-east-1",
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            # Path-style addressing works with every S3-compatible server, not only AWS.
            "config": Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
        }

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[Any]:
        # A client per operation: attachments are few and large, and a client bound to no
        # event loop for long avoids lifecycle bugs in a process with several loops (tests).
        async with self._session.create_client("s3", **self._client_args) as client:
            yield client

    async def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (development and tests)."""
        async with self._client() as client:
            try:
                await client.head_bucket(Bucket=self.bucket)
            except ClientError:
                await client.create_bucket(Bucket=self.bucket)

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        """Store ``data`` under ``key``; the server verifies the SHA-256 sent with it."""
        stored = describe(check_key(key), content_type, data)
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        async with self._client() as client:
            await client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ChecksumSHA256=checksum,
                Metadata={SHA256_METADATA: stored.sha256},
            )
        return stored

    async def get(self, key: str) -> tuple[bytes, str]:
        """(bytes, content type); ObjectNotFoundError, or CorruptObjectError on a bad checksum."""
        async with self._client() as client:
            try:
                response = await client.get_object(Bucket=self.bucket, Key=check_key(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
                    raise ObjectNotFoundError(key) from exc
                raise
            async with response["Body"] as stream:
                data = await stream.read()
        expected = response.get("Metadata", {}).get(SHA256_METADATA)
        if expected is not None and hashlib.sha256(data).hexdigest() != expected:
            raise CorruptObjectError(f"object {key} does not match its recorded sha256")
        return data, str(response.get("ContentType") or "application/octet-stream")

    async def exists(self, key: str) -> bool:
        """Whether ``key`` holds an object."""
        async with self._client() as client:
            try:
                await client.head_object(Bucket=self.bucket, Key=check_key(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
                    return False
                raise
        return True
