"""Ids go to the store in slices of a few fixed lengths, so that the prepared statements
kept per connection do not multiply with the lengths of a sync's batches."""

from __future__ import annotations

from zoom_brevo.delivery.rows import IDS_PER_STATEMENT, slices


def test_each_slice_is_padded_to_a_power_of_two_with_its_last_id() -> None:
    assert list(slices([7, 8, 9])) == [[7, 8, 9, 9]]
    assert list(slices([5])) == [[5]]
    assert list(slices([1, 2, 3, 4])) == [[1, 2, 3, 4]]


def test_every_id_is_in_exactly_the_slices_it_was_given_to() -> None:
    ids = list(range(IDS_PER_STATEMENT * 2 + 300))
    found = list(slices(ids))
    assert [len(part) for part in found] == [IDS_PER_STATEMENT, IDS_PER_STATEMENT, 512]
    assert [i for part in found for i in dict.fromkeys(part)] == ids


def test_batches_of_any_length_share_few_statement_lengths() -> None:
    lengths = {len(part) for n in range(1, 5_001) for part in slices(list(range(n)))}
    assert lengths == {2**k for k in range(12)}
    assert IDS_PER_STATEMENT == 2**11


def test_no_ids_make_no_slice() -> None:
    assert list(slices([])) == []
