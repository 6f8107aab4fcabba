"""Wait on a condition with a deadline (tests never sleep blindly)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def wait_until(
    condition: Callable[[], Awaitable[Any] | Any],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    message: str = "condition",
) -> Any:
    """Poll ``condition`` until it returns something truthy; raise TimeoutError at the deadline."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        last = result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")
        await asyncio.sleep(interval)
