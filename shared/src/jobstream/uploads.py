"""Raw-body uploads (photos, signatures, attachments), read within a memory limit.

The body is read without ever holding more than the service's limit in memory.
"""

from __future__ import annotations

from fastapi import HTTPException, Request, status


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it is known to exceed ``limit`` bytes.

    The size is known from its Content-Length, else while streaming it.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=f"at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=f"at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
