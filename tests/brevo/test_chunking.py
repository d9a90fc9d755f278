"""Pure batching rules: import bodies under the byte budget, fixed-size chunks."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoom_brevo.brevo.chunking import RowTooLarge, chunks, plan_byte_chunks, plan_count_chunks


def body_size(sizes: list[int], span: range, envelope: int) -> int:
    return envelope + sum(sizes[i] for i in span) + max(0, len(span) - 1)


def test_rows_that_exactly_fill_the_budget_share_one_body() -> None:
    # envelope 10 + 3 rows of 10 + 2 commas = 42
    assert plan_byte_chunks([10, 10, 10], max_body_bytes=42, envelope_bytes=10) == [range(3)]


def test_one_byte_over_the_budget_starts_a_new_body() -> None:
    plans = plan_byte_chunks([10, 10, 10], max_body_bytes=41, envelope_bytes=10)
    assert plans == [range(2), range(2, 3)]


def test_a_row_alone_larger_than_the_budget_is_refused_with_its_index() -> None:
    with pytest.raises(RowTooLarge) as caught:
        plan_byte_chunks([5, 50, 5], max_body_bytes=40, envelope_bytes=10)
    assert caught.value.index == 1


def test_no_rows_means_no_request() -> None:
    assert plan_byte_chunks([], max_body_bytes=100, envelope_bytes=10) == []


@given(
    st.lists(st.integers(min_value=1, max_value=50), max_size=200),
    st.integers(min_value=60, max_value=500),
)
def test_byte_chunks_cover_every_row_in_order_and_respect_the_budget(
    sizes: list[int], budget: int
) -> None:
    plans = plan_byte_chunks(sizes, max_body_bytes=budget, envelope_bytes=10)
    assert [i for span in plans for i in span] == list(range(len(sizes)))
    assert all(len(span) > 0 and body_size(sizes, span, 10) <= budget for span in plans)
    # greedy: adding the next row to any body would have broken the budget
    for span, nxt in itertools.pairwise(plans):
        assert body_size(sizes, range(span.start, nxt.start + 1), 10) > budget


def test_list_adds_go_in_slices_of_150() -> None:
    assert [len(c) for c in chunks(list(range(400)), 150)] == [150, 150, 100]


def test_transactional_batches_cap_versions_and_recipients() -> None:
    assert plan_count_chunks([1] * 2500, max_items=1000, max_weight=2000) == [
        range(1000),
        range(1000, 2000),
        range(2000, 2500),
    ]
    assert plan_count_chunks([99] * 30, max_items=1000, max_weight=2000) == [
        range(20),
        range(20, 30),
    ]
