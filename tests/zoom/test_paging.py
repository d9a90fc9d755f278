"""Pure pagination state: tokens, deadlines, restarts that skip rows already yielded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoom_brevo.zoom.paging import (
    Cursor,
    PaginationRestartsExhausted,
    advance,
    page_params,
    restart,
    token_deadline_s,
)


def test_first_page_has_no_token_and_page_size_300() -> None:
    assert page_params({"status": "approved", "occurrence_id": None}, Cursor()) == {
        "status": "approved",
        "page_size": 300,
    }


def test_next_page_repeats_the_same_filters_with_the_token() -> None:
    cursor = Cursor(token="tok", received_at_s=5.0)
    assert page_params({"type": "past"}, cursor) == {
        "type": "past",
        "page_size": 300,
        "next_page_token": "tok",
    }


def test_blank_token_ends_the_listing() -> None:
    cursor, rows = advance(
        Cursor(), {"participants": [1, 2], "next_page_token": ""}, "participants", 1.0
    )
    assert cursor.done
    assert rows == [1, 2]


def test_token_deadline_is_the_budget_after_the_page_arrived() -> None:
    assert token_deadline_s(Cursor()) is None
    assert token_deadline_s(Cursor(token="t", received_at_s=100.0), budget_s=840.0) == 940.0


def test_restart_skips_exactly_the_rows_already_yielded() -> None:
    cursor, rows = advance(Cursor(), {"r": [1, 2, 3], "next_page_token": "a"}, "r", 0.0)
    cursor, more = advance(cursor, {"r": [4, 5, 6], "next_page_token": "b"}, "r", 1.0)
    assert rows + more == [1, 2, 3, 4, 5, 6]
    cursor = restart(cursor)
    assert cursor.token is None
    assert cursor.skip == 6
    cursor, again = advance(cursor, {"r": [1, 2, 3], "next_page_token": "c"}, "r", 2.0)
    assert again == []
    cursor, again = advance(cursor, {"r": [4, 5, 6], "next_page_token": "d"}, "r", 3.0)
    assert again == []
    cursor, again = advance(cursor, {"r": [7], "next_page_token": ""}, "r", 4.0)
    assert again == [7]
    assert cursor.done
    assert cursor.yielded == 7


def test_restarts_are_bounded() -> None:
    cursor = Cursor()
    for _ in range(3):
        cursor = restart(cursor)
    with pytest.raises(PaginationRestartsExhausted):
        restart(cursor)


@given(
    total=st.integers(min_value=0, max_value=2000),
    page_size=st.integers(min_value=1, max_value=300),
    restart_after=st.lists(st.integers(min_value=0, max_value=30), max_size=3),
)
def test_every_row_is_yielded_once_whatever_the_restarts(
    total: int, page_size: int, restart_after: list[int]
) -> None:
    rows = list(range(total))

    def page(start: int) -> dict[str, object]:
        end = start + page_size
        return {"r": rows[start:end], "next_page_token": str(end) if end < total else ""}

    cursor, out, pages = Cursor(), [], 0
    pending = list(restart_after)
    while not cursor.done:
        if pending and pages == pending[0]:
            pending.pop(0)
            cursor = restart(cursor)
        cursor, fresh = advance(cursor, page(int(cursor.token or 0)), "r", float(pages))
        out.extend(fresh)
        pages += 1
    assert out == rows
