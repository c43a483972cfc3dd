"""Whether each adapter still hears its platform: what /healthz reports about it, and the error
with which an adapter that gave up for good stops the process.

Each adapter owns one `Liveness`. It is `up` from the moment the adapter serves until it stops,
and `seen()` at each sign of life from the platform:

- Telegram, long polling: each getUpdates that returned (a long poll returns at least every
  `timeout` seconds, 10 by default, even when nobody writes);
- Telegram, webhook: setWebhook and each update received (never stale: a quiet bot is fine);
- Discord: each gateway heartbeat ACK (every ~41 s), read from discord.py's keep-alive.

It is stale when its last sign of life is older than `stale_after` seconds; /healthz answers 503
while an adapter is down or stale.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict


class AdapterDied(Exception):
    """An adapter stopped for good by itself (its platform refuses it or went away). The
    message is the one line the operator reads: it names the problem and carries no secret."""


class AdapterHealth(TypedDict):
    ok: bool  # up and not stale
    up: bool
    signal: str  # what `age_seconds` measures
    age_seconds: float | None  # since the last sign of life; None before the first one
    stale_after_seconds: float | None  # None: never stale


@dataclass
class Liveness:
    """One adapter's liveness (times are `time.monotonic()`)."""

    signal: str
    stale_after: float | None
    up: bool = False
    last_seen: float | None = None
    # Where the platform library keeps its own last sign of life (monotonic), if it does.
    probe: Callable[[], float | None] | None = field(default=None, repr=False)

    def seen(self) -> None:
        self.last_seen = time.monotonic()

    def age(self) -> float | None:
        """Seconds since the last sign of life, or None if there was none yet."""
        if self.probe is not None:
            probed = self.probe()
            if probed is not None and (self.last_seen is None or probed > self.last_seen):
                self.last_seen = probed
        return None if self.last_seen is None else max(0.0, time.monotonic() - self.last_seen)

    def report(self) -> AdapterHealth:
        age = self.age()
        stale = self.stale_after is not None and (age is None or age > self.stale_after)
        return {
            "ok": self.up and not stale,
            "up": self.up,
            "signal": self.signal,
            "age_seconds": None if age is None else round(age, 1),
            "stale_after_seconds": self.stale_after,
        }
