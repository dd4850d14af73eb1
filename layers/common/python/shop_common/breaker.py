"""A minimal circuit breaker: after a failure, callers skip the dependency for a while.

Used where the caller has a fallback that is always correct (the outbox relay for
publishing), so failing fast is only ever a latency win, never a loss.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    """Open for `open_seconds` after each failure; calls after that are trials.

    Every call the breaker allows once the window has passed is a trial: the next
    failure opens it again, a success keeps it closed. `clock` gives seconds.
    """

    def __init__(self, open_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._open_seconds = open_seconds
        self._clock = clock
        self._open_until = 0.0
        self._lock = threading.Lock()

    def allows(self) -> bool:
        """True unless a failure was recorded less than `open_seconds` seconds ago."""
        with self._lock:
            return self._clock() >= self._open_until

    def record_failure(self) -> None:
        """Open the breaker: `allows()` is False for the next `open_seconds` seconds."""
        with self._lock:
            self._open_until = self._clock() + self._open_seconds

    def record_success(self) -> None:
        """Close the breaker at once, whatever window a failure opened."""
        with self._lock:
            self._open_until = 0.0
