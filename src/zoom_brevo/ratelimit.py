"""Rate limiting by reservation on token buckets: a pure core and an asyncio shell.

Each call reserves one token. A bucket may go into debt; the caller then waits for the
debt to be repaid at the bucket's rate, so concurrent callers are spaced evenly instead of
stampeding when a window opens. A server-imposed pause (429 with ``Retry-After``) blocks a
key until a point in time.

The ``RateLimiter`` protocol is what clients depend on; ``LocalRateLimiter`` keeps state in
this process. A limiter shared by several processes implements the same protocol.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Limit:
    """``rate_per_s`` tokens per second, at most ``burst`` saved up."""

    rate_per_s: float
    burst: float = 1.0

    @classmethod
    def per_hour(cls, count: float, burst: float = 1.0) -> Limit:
        """A limit of ``count`` calls per hour."""
        return cls(rate_per_s=count / 3600.0, burst=burst)


@dataclass(frozen=True, slots=True)
class Bucket:
    """Tokens available at ``updated_s`` (negative: reserved ahead), and a pause deadline."""

    tokens: float
    updated_s: float
    paused_until_s: float = 0.0


def fresh_bucket(limit: Limit, now_s: float) -> Bucket:
    """A full bucket."""
    return Bucket(tokens=limit.burst, updated_s=now_s)


def reserve(bucket: Bucket, limit: Limit, now_s: float) -> tuple[Bucket, float]:
    """Reserve one token; return the new bucket and how long the caller must wait first."""
    elapsed = max(0.0, now_s - bucket.updated_s)
    tokens = min(limit.burst, bucket.tokens + elapsed * limit.rate_per_s) - 1.0
    wait_s = 0.0 if tokens >= 0 else -tokens / limit.rate_per_s
    wait_s = max(wait_s, bucket.paused_until_s - now_s)
    return replace(bucket, tokens=tokens, updated_s=now_s), wait_s


def pause(bucket: Bucket, until_s: float) -> Bucket:
    """Block the bucket until ``until_s`` (a 429's Retry-After); spent tokens are forfeited."""
    return replace(
        bucket, tokens=min(bucket.tokens, 0.0), paused_until_s=max(bucket.paused_until_s, until_s)
    )


class RateLimiter(Protocol):
    """What API clients need from a limiter; keys are e.g. ``"zoom:heavy"``."""

    async def acquire(self, key: str) -> None:
        """Wait until one more call under ``key`` is allowed."""

    async def pause(self, key: str, seconds: float) -> None:
        """Allow no call under ``key`` for ``seconds`` (a 429 answered with a wait)."""


class BucketLimiter(ABC):
    """The shell of a limiter over token buckets: keys without a configured limit pass
    freely, and the caller sleeps the wait its reservation was given.

    Subclasses keep the buckets (in memory, in the database) by ``_reserve`` and ``_pause``.
    """

    def __init__(
        self, limits: Mapping[str, Limit], sleep: Callable[[float], Awaitable[None]]
    ) -> None:
        self._limits = dict(limits)
        self._sleep = sleep

    def limit(self, key: str) -> Limit | None:
        """The limit applied to ``key``."""
        return self._limits.get(key)

    async def acquire(self, key: str) -> None:
        """Wait until one more call under ``key`` is allowed."""
        limit = self._limits.get(key)
        if limit is None:
            return
        wait_s = await self._reserve(key, limit)
        if wait_s > 0:
            await self._sleep(wait_s)

    async def pause(self, key: str, seconds: float) -> None:
        """Allow no call under ``key`` for ``seconds``."""
        limit = self._limits.get(key)
        if limit is None:
            return
        await self._pause(key, limit, seconds)

    @abstractmethod
    async def _reserve(self, key: str, limit: Limit) -> float:
        """Reserve one token of ``key``'s bucket; return the seconds to wait before calling."""

    @abstractmethod
    async def _pause(self, key: str, limit: Limit, seconds: float) -> None:
        """Block ``key``'s bucket for ``seconds`` from now."""


class LocalRateLimiter(BucketLimiter):
    """Token buckets in this process's memory; keys without a configured limit pass freely.

    Several limits may apply to one call (Brevo's per-second and per-hour windows, Zoom's
    per-second and daily caps): configure them as separate keys and acquire each.
    """

    def __init__(
        self,
        limits: Mapping[str, Limit],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(limits, sleep)
        self._buckets: dict[str, Bucket] = {}
        self._clock = clock

    async def _reserve(self, key: str, limit: Limit) -> float:
        now = self._clock()
        bucket = self._buckets.get(key) or fresh_bucket(limit, now)
        self._buckets[key], wait_s = reserve(bucket, limit, now)
        return wait_s

    async def _pause(self, key: str, limit: Limit, seconds: float) -> None:
        now = self._clock()
        bucket = self._buckets.get(key) or fresh_bucket(limit, now)
        self._buckets[key] = pause(bucket, now + seconds)
