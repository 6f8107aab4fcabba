"""Sign-in attempts per client address, per process: a sliding window of one minute.

The account lockout (in the database) holds across every process and client; this limit
keeps one address from trying many accounts quickly. With N front door processes a client
gets at most N times the limit (ADR 0072).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

# Past this many keys, the empty windows are dropped so that the map does not grow forever.
MAX_KEYS = 50_000


class SlidingWindow:
    """At most ``limit`` events per ``window_s`` per key."""

    def __init__(
        self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Allow ``limit`` events per ``window_s`` seconds of ``clock`` for each key."""
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._events: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float:
        """0 if ``key`` may go ahead now (and counts it); else seconds to wait."""
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window_s:
            events.popleft()
        if len(events) >= self.limit:
            return events[0] + self.window_s - now
        events.append(now)
        if len(self._events) > MAX_KEYS:
            self._events = {k: v for k, v in self._events.items() if v}
        return 0.0
