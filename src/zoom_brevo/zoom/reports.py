"""Zoom's one-response reports, read as a stream of entries.

The Q&A and poll reports of a webinar are not paginated: one response holds every
attendee's entries (reference zoom.md 2.1), tens of megabytes for a big webinar. Decoding
it whole would make the connector's memory grow with the audience, so the body is parsed
incrementally (ijson) and one entry at a time is built, validated and handed over. The
report's own fields (``id``, ``uuid``, ``start_time``) are known once the body is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

import httpx
import ijson
import pydantic

from zoom_brevo.errors import FatalApiError, RetriableApiError
from zoom_brevo.zoom.categories import Endpoint
from zoom_brevo.zoom.models import ReportSummary
from zoom_brevo.zoom.responses import SERVICE, read_as

E = TypeVar("E", bound=pydantic.BaseModel)

_SCALARS = frozenset({"null", "boolean", "integer", "double", "number", "string"})
_CLOSERS = frozenset({"end_map", "end_array"})


class Report(Generic[E]):
    """A report's entries one at a time (``async for``), then its :attr:`summary`.

    Each iteration sends the request anew; ``open_response`` does the rate limiting and
    retries up to the status line. A connection lost in the middle of the body raises
    :class:`RetriableApiError`: the entries already handed over cannot be taken back, so
    the caller starts again (collecting participation is idempotent).
    """

    def __init__(
        self,
        open_response: Callable[[], Awaitable[httpx.Response]],
        endpoint: Endpoint,
        model: type[E],
    ) -> None:
        assert endpoint.items_key is not None
        self._open = open_response
        self._endpoint = endpoint
        self._model = model
        self._summary: ReportSummary | None = None

    @property
    def summary(self) -> ReportSummary:
        """The report's own fields; only after the entries were read to the end."""
        if self._summary is None:
            raise RuntimeError("read the report's entries before its summary")
        return self._summary

    async def read_summary(self) -> ReportSummary:
        """Read the report through, dropping its entries, and return its summary."""
        async for _ in self:
            pass
        return self.summary

    async def __aiter__(self) -> AsyncIterator[E]:
        self._summary = None
        response = await self._open()
        try:
            fields: dict[str, Any] = {}
            async for row in _rows(_Body(response), self._items_key, fields, self._malformed):
                yield self._parse(row)
        except httpx.TransportError as exc:
            raise RetriableApiError(
                f"The connection to Zoom broke while reading {self._endpoint.path} "
                f"({type(exc).__name__}); try again.",
                service=SERVICE,
            ) from exc
        finally:
            await response.aclose()
        self._summary = read_as(ReportSummary, fields, self._endpoint.path)

    @property
    def _items_key(self) -> str:
        assert self._endpoint.items_key is not None
        return self._endpoint.items_key

    def _parse(self, row: Any) -> E:
        return read_as(self._model, row, self._endpoint.path)

    def _malformed(self, why: str) -> FatalApiError:
        return FatalApiError(
            f"Zoom answered {self._endpoint.path} with a body that is not a report ({why}); "
            "check connectors.zoom.api_base_url.",
            service=SERVICE,
        )


async def _rows(
    body: _Body,
    items_key: str,
    fields: dict[str, Any],
    malformed: Callable[[str], FatalApiError],
) -> AsyncIterator[Any]:
    """Each element of the top-level array ``items_key``; top-level scalars into ``fields``."""
    item = f"{items_key}.item"
    builder: Any = None
    events = ijson.parse_async(body, use_float=True)
    try:
        first = await anext(events, None)
        if first is None or first[:2] != ("", "start_map"):
            raise malformed("not a JSON object")
        async for prefix, event, value in events:
            if prefix == item or prefix.startswith(item + "."):
                builder = builder or ijson.ObjectBuilder()
                builder.event(event, value)
                if prefix == item and (event in _CLOSERS or event in _SCALARS):
                    yield builder.value
                    builder = None
            elif event in _SCALARS and prefix and "." not in prefix:
                fields[prefix] = value
    except ijson.JSONError as exc:
        raise malformed(f"invalid JSON: {exc}") from exc


class _Body:
    """The ``read`` coroutine ijson pulls a streamed httpx response through."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.aiter_bytes()

    async def read(self, size: int = -1) -> bytes:
        """The next chunk of the body as it arrives (``b""`` at its end)."""
        if size == 0:  # ijson first reads 0 bytes to learn whether the file gives bytes
            return b""
        return await anext(self._chunks, b"")
