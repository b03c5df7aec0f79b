"""Failed sign-ins and invite uses per address in a sliding window (HTTP 429 beyond it).

:class:`FailureLimiter` is pure and thread-safe; the app's one instance lives on
:class:`vrcollab.server.services.Services` and routes use it through
:func:`vrcollab.server.deps.guarded`.
"""

from __future__ import annotations

import threading
from collections import deque

from vrcollab.errors import AuthError


class RateLimitedError(AuthError):
    """Too many failed sign-ins or invite uses from one address (HTTP 429)."""

    code = "rate_limited"
    http_status = 429


class FailureLimiter:
    """Failed attempts per (bucket, address) in a sliding window; thread-safe."""

    def __init__(self, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._seen.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def check(self, bucket: str, address: str, now: float) -> None:
        """AuthError ``rate_limited`` (HTTP 429) while the address is over the limit."""
        with self._lock:
            if len(self._recent((bucket, address), now)) >= self.max_failures:
                raise RateLimitedError("too many failed attempts; wait a few minutes")

    def fail(self, bucket: str, address: str, now: float) -> None:
        """Count one failure."""
        with self._lock:
            self._recent((bucket, address), now).append(now)
            if len(self._seen) > 10_000:  # bound memory under a spray of addresses
                for key in [k for k, q in self._seen.items() if not q][:5000]:
                    del self._seen[key]
