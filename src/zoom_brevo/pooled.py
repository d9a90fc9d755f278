"""``async with`` for resources closed by ``aclose``: the API clients' pools, the waker."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

import httpx


class AsyncClosing(ABC):
    """Leaving ``async with`` calls ``aclose``, whatever ended the block."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @abstractmethod
    async def aclose(self) -> None:
        """Release what the resource holds."""


class PooledClient(AsyncClosing):
    """Closes ``_http`` (the client's connection pool) on ``aclose`` or leaving ``async with``."""

    _http: httpx.AsyncClient

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
