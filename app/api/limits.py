"""Rate limits per API token: a token bucket in this process (FOLIO_API_RATE_PER_MINUTE), refilled evenly.

Each Folio process counts on its own, so with several workers a token may make up to that many times the rate: the
limit protects the server from a runaway script, it is not a quota."""

from __future__ import annotations

import math
import threading
import time


class TokenBuckets:
    """One bucket per token id, `per_minute` deep, refilling at `per_minute` a minute."""

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: int) -> int:
        """Spend one request of `key`'s: 0 when allowed, else the seconds to wait before the next one will be."""
        with self._lock:
            now = self.clock()
            level, then = self._buckets.get(key, (self.capacity, now))
            level = min(self.capacity, level + (now - then) * self.rate)
            if level >= 1:
                self._buckets[key] = (level - 1, now)
                self._forget_full(now)
                return 0
            self._buckets[key] = (level, now)
            return max(1, math.ceil((1 - level) / self.rate))

    def _forget_full(self, now: float) -> None:
        # Buckets that would be full again hold nothing worth keeping: drop them now and then, so memory stays small.
        if len(self._buckets) < 10_000:
            return
        idle = self.capacity / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < idle}
