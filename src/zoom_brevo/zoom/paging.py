"""Pure pagination state for Zoom's ``next_page_token`` lists (reference zoom.md 2.0).

A page token dies 15 minutes after its page was served (code 300). The client never sends
a token older than its budget: when a wait (rate limit, Retry-After, a slow consumer)
would take it past that, the listing restarts from the first page and drops as many rows
as were already yielded. Zoom lists past data in a stable order, so counting rows is
enough to resume; it keeps memory flat however long the list is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

PAGE_SIZE = 300
"""The largest page every endpoint here accepts (reference zoom.md 2.0)."""
PAGE_TOKEN_BUDGET_S = 840.0
"""How long a received page token is used: Zoom's 15 minutes, less one minute of margin."""
MAX_RESTARTS = 3


class PaginationRestartsExhausted(Exception):
    """The listing had to restart more than MAX_RESTARTS times (internal)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a listing stands.

    ``token`` is the next_page_token to send (``None``: first page); ``received_at_s``
    when the page that carried it arrived; ``yielded`` rows handed out so far; ``skip``
    rows still to drop after a restart.
    """

    token: str | None = None
    received_at_s: float = 0.0
    yielded: int = 0
    skip: int = 0
    restarts: int = 0
    done: bool = False


def page_params(
    params: Mapping[str, Any], cursor: Cursor, page_size: int = PAGE_SIZE
) -> dict[str, Any]:
    """Query parameters of the next page: the same filters every time, plus the token."""
    query = {k: v for k, v in params.items() if v is not None}
    query["page_size"] = page_size
    if cursor.token is not None:
        query["next_page_token"] = cursor.token
    return query


def token_deadline_s(cursor: Cursor, budget_s: float = PAGE_TOKEN_BUDGET_S) -> float | None:
    """The last moment the cursor's token may be sent, or ``None`` on the first page."""
    return None if cursor.token is None else cursor.received_at_s + budget_s


def next_token(body: Mapping[str, Any]) -> str | None:
    """The page token of a response; blank or missing means the list is complete."""
    token = body.get("next_page_token")
    return token if isinstance(token, str) and token else None


def advance(
    cursor: Cursor, body: Mapping[str, Any], items_key: str, now_s: float
) -> tuple[Cursor, list[Any]]:
    """Take one page: the new cursor and the rows to yield (after dropping skipped ones)."""
    rows = body.get(items_key) or []
    if not isinstance(rows, list):
        rows = []
    drop = min(cursor.skip, len(rows))
    token = next_token(body)
    fresh = rows[drop:]
    return (
        replace(
            cursor,
            token=token,
            received_at_s=now_s,
            yielded=cursor.yielded + len(fresh),
            skip=cursor.skip - drop,
            done=token is None,
        ),
        fresh,
    )


def restart(cursor: Cursor, max_restarts: int = MAX_RESTARTS) -> Cursor:
    """Start over from the first page, skipping the rows already yielded."""
    if cursor.restarts >= max_restarts:
        raise PaginationRestartsExhausted
    return Cursor(skip=cursor.yielded, yielded=cursor.yielded, restarts=cursor.restarts + 1)
