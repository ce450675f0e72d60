"""The sandbox's fault injection: latency, 5xx answers, dropped connections, a rolling rate limit,
and answers lost after the request was carried out.

Every random draw comes from RNGs seeded with the sandbox's seed, so a run with the same requests
in the same order meets the same faults.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, fields
from typing import Any

RATE_WINDOW_S = 30.0

# What Spotify's edge answers with when something behind it fails.
FAULT_BODIES = {
    500: "Server error.",
    502: "Bad gateway.",
    503: "Service unavailable",
}


@dataclass
class FaultConfig:
    latency_ms: float = 0.0
    # Added to requests that change something (POST, PUT, DELETE): a write that takes its time while
    # reads stay quick, so a test can stop a client between two writes without slowing the rest.
    write_latency_ms: float = 0.0
    fault_rate: float = 0.0
    rate_limit: int | None = None
    retry_after: float = 1
    # ReccoBeats' own limit (calls per rolling window, answered 429 with Retry-After = retry_after):
    # a third-party service counts its calls apart from Spotify's.
    reccobeats_rate_limit: int | None = None
    token_ttl: float = 3600
    refresh_ttl: float | None = None
    drop_rate: float = 0.0
    # Carried out, then the answer lost: a write succeeds but the client sees a 502 (a gateway that
    # timed out on a slow backend). Only a client that reads back before retrying stays correct.
    lost_answer_rate: float = 0.0

    def check(self) -> None:
        for name in ("latency_ms", "write_latency_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("fault_rate", "drop_rate", "lost_answer_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("rate_limit", "reccobeats_rate_limit"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 (or None for no limit)")
        if self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        if self.token_ttl <= 0:
            raise ValueError("token_ttl must be > 0")
        if self.refresh_ttl is not None and self.refresh_ttl <= 0:
            raise ValueError("refresh_ttl must be > 0 (or None for no expiry)")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FAULT_OPTIONS = tuple(f.name for f in fields(FaultConfig))


class FaultInjector:
    """Decides, request by request, whether a faultable request is dropped, limited or failed."""

    def __init__(self, config: FaultConfig, seed: int = 0):
        config.check()
        self.config = config
        self._lock = threading.Lock()
        self._fault_rng = random.Random(f"faults:{seed}")
        self._drop_rng = random.Random(f"drops:{seed}")
        self._lost_rng = random.Random(f"lost:{seed}")
        self._calls: deque[float] = deque()
        self._reccobeats_calls: deque[float] = deque()

    def configure(self, **changes: Any) -> FaultConfig:
        unknown = set(changes) - set(FAULT_OPTIONS)
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}; known: {', '.join(FAULT_OPTIONS)}")
        with self._lock:
            merged = FaultConfig(**{**self.config.as_dict(), **changes})
            merged.check()
            self.config = merged
            if "rate_limit" in changes:
                self._calls.clear()
            if "reccobeats_rate_limit" in changes:
                self._reccobeats_calls.clear()
            return merged

    def latency_s(self, method: str) -> float:
        extra = self.config.write_latency_ms if method in {"POST", "PUT", "DELETE"} else 0.0
        return max(0.0, self.config.latency_ms + extra) / 1000.0

    def should_drop(self) -> bool:
        with self._lock:
            rate = self.config.drop_rate
            return rate > 0 and self._drop_rng.random() < rate

    def answer_lost(self) -> bool:
        """After a request was carried out: is its answer replaced by a 502?"""
        with self._lock:
            rate = self.config.lost_answer_rate
            return rate > 0 and self._lost_rng.random() < rate

    def rate_limited(self, service: str = "spotify") -> int | None:
        """None when the call may go on (and it is counted); else the Retry-After seconds. `service`
        "reccobeats" counts against ReccoBeats' own limit."""
        with self._lock:
            if service == "reccobeats":
                limit, calls = self.config.reccobeats_rate_limit, self._reccobeats_calls
            else:
                limit, calls = self.config.rate_limit, self._calls
            if limit is None:
                return None
            now = time.monotonic()
            while calls and now - calls[0] >= RATE_WINDOW_S:
                calls.popleft()
            if len(calls) >= limit:
                # Retry-After is whole seconds on the wire (clients parse it as an int).
                return int(math.ceil(self.config.retry_after))
            calls.append(now)
            return None

    def server_fault(self) -> int | None:
        """A 5xx status to answer instead of the real one, or None."""
        with self._lock:
            rate = self.config.fault_rate
            if rate <= 0 or self._fault_rng.random() >= rate:
                return None
            return self._fault_rng.choice((500, 502, 503))
