"""Dialect helpers: the bound above every string with a given prefix."""

from __future__ import annotations

import pytest

from zoom_brevo.store._sql import prefix_upper


@pytest.mark.parametrize(
    ("prefix", "upper"),
    [
        ("pair_leave:u1:", "pair_leave:u1;"),
        ("a\ud7ff", "a\ue000"),  # no surrogates in between
        ("ab\U0010ffff", "ac"),
        ("\U0010ffff", None),
        ("", None),
    ],
)
def test_the_bound_is_the_least_string_above_every_string_with_the_prefix(
    prefix: str, upper: str | None
) -> None:
    assert prefix_upper(prefix) == upper
    if upper is not None:
        assert prefix < prefix + "\U0010ffff" * 3 < upper
