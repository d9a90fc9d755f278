"""``async with`` for the API clients: each owns one ``httpx.AsyncClient`` pool."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx


class PooledClient:
    """Closes ``_http`` (the client's connection pool) on ``aclose`` or leaving ``async with``."""

    _http: httpx.AsyncClient

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
