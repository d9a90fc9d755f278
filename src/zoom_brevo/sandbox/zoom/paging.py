"""Zoom's ``next_page_token`` pagination (reference zoom.md 2.0): opaque, tied to the query,
expiring after ``ttl_s`` (15 minutes at Zoom)."""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from zoom_brevo.sandbox.zoom.errors import ZoomError

DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 300
_IGNORED = frozenset({"next_page_token", "page_size", "page_number"})

# ``rows(cursor)`` yields (item, cursor of the item after it); cursors are opaque values.
Rows = Callable[[Any], Iterator[tuple[dict[str, Any], Any]]]


@dataclass(frozen=True, slots=True)
class _Saved:
    query_key: tuple[tuple[str, str], ...]
    cursor: Any
    issued_s: float


@dataclass(frozen=True, slots=True)
class Page:
    """One page: items and the paging fields of the response."""

    items: list[dict[str, Any]]
    fields: dict[str, Any]


def page_size_of(query: Mapping[str, str], maximum: int = MAX_PAGE_SIZE) -> int:
    """The requested page size, default 30, capped at ``maximum``."""
    raw = query.get("page_size", "")
    if not raw:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise ZoomError(400, 300, f"Invalid field: page_size={raw!r}.") from None
    if size < 1:
        raise ZoomError(400, 300, "Invalid field: page_size must be at least 1.")
    return min(size, maximum)


def query_key(path: str, query: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """What a page token is tied to: the path and every other query parameter."""
    return (("", path), *sorted((k, v) for k, v in query.items() if k not in _IGNORED))


class PageTokens:
    """Issues and redeems page tokens; unknown, expired or foreign ones give code 300."""

    def __init__(self, clock: Callable[[], float], ttl_s: float) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self._saved: dict[str, _Saved] = {}

    def issue(self, key: tuple[tuple[str, str], ...], cursor: Any) -> str:
        """A fresh token for resuming at ``cursor``."""
        self._forget_expired()
        tok = secrets.token_urlsafe(24)
        self._saved[tok] = _Saved(key, cursor, self._clock())
        return tok

    def redeem(self, key: tuple[tuple[str, str], ...], tok: str) -> Any:
        """The cursor saved under ``tok`` for this query."""
        saved = self._saved.get(tok)
        fresh = saved is not None and self._clock() - saved.issued_s <= self.ttl_s
        if saved is None or not fresh or saved.query_key != key:
            raise ZoomError(400, 300, "The next page token is invalid or expired.")
        return saved.cursor

    def _forget_expired(self) -> None:
        if len(self._saved) < 1024:
            return
        now = self._clock()
        self._saved = {t: s for t, s in self._saved.items() if now - s.issued_s <= self.ttl_s}

    def page(
        self,
        path: str,
        query: Mapping[str, str],
        rows: Rows,
        total: int,
        *,
        start: Any = 0,
        maximum: int = MAX_PAGE_SIZE,
    ) -> Page:
        """Cut one page out of ``rows`` for this request."""
        size = page_size_of(query, maximum)
        key = query_key(path, query)
        tok = query.get("next_page_token", "")
        cursor = self.redeem(key, tok) if tok else start
        items: list[dict[str, Any]] = []
        next_token = ""
        for item, after in rows(cursor):
            if len(items) == size:
                next_token = self.issue(key, cursor)
                break
            items.append(item)
            cursor = after
        fields = {
            "page_count": math.ceil(total / size) if total else 0,
            "page_size": size,
            "total_records": total,
            "next_page_token": next_token,
        }
        return Page(items, fields)
