"""PostgreSQL schemas for the scale-out tests, and the emulators with real rate limits.

Every test gets its own migrated schema (``tests.store.conftest.pg_schema``), so that the
processes it starts share one database that nobody else's tests touch.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.store.conftest import pg_schema
from zoom_brevo.sandbox.brevo.limits import family
from zoom_brevo.store import engine as store_engine


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """The URL of a fresh schema migrated to head (search_path set on every connection)."""
    with pg_schema(pg_url) as url:
        engine = store_engine.create_engine(url)
        store_engine.migrate(engine)
        engine.dispose()
        yield url


@dataclass(frozen=True)
class Seen:
    """One API call as the emulator answered it: arrival time, rate bucket, status."""

    at_s: float
    bucket: str
    status: int


@dataclass
class Recorder:
    """ASGI middleware in front of the combined sandbox: notes every API call it answers."""

    app: Any
    calls: list[Seen] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.time()
        path: str = scope["path"]

        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                self._note(arrived, scope["method"], path, message)
            await send(message)

        await self.app(scope, receive, noting)

    def _note(self, arrived: float, method: str, path: str, start: Any) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
        if path.startswith("/zoom/v2/"):
            bucket = "zoom:" + headers.get("x-ratelimit-category", "?").lower()
        elif path.startswith("/brevo/v3/"):
            bucket = "brevo:" + family(method, path.removeprefix("/brevo/v3"))
        else:
            return
        self.calls.append(Seen(arrived, bucket, start["status"]))

    def max_in_window(self, bucket: str, window_s: float = 1.0) -> int:
        """Most calls of ``bucket`` that arrived within any ``window_s`` (sliding)."""
        times = sorted(c.at_s for c in self.calls if c.bucket == bucket)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window_s:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def count(self, bucket: str, status: int | None = None) -> int:
        """Calls of ``bucket`` (answered with ``status``, if given)."""
        return sum(
            1 for c in self.calls if c.bucket == bucket and (status is None or c.status == status)
        )


# The store's two-dialect ``engine`` fixture (SQLite file and PostgreSQL schema).
from tests.store.conftest import engine, pg_migrated_url, sqlite_template  # noqa: E402, F401
