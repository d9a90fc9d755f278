"""Pure batching: split work into the request sizes Brevo accepts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

# brevo.md 2.5: jsonBody max 10 MB, Brevo recommends staying under about 8 MB.
IMPORT_MAX_BODY_BYTES = 8 * 1000 * 1000
# brevo.md 3.2: Brevo documents no maximum for ``/events/batch``, neither a count nor a
# size. The one request-body size it publishes is the import's (10 MB, about 8 MB advised),
# so event batches are cut at that budget too; a batch refused as a whole is split in halves
# (``BrevoClient.send_events``), so a lower undocumented limit costs calls, not events.
EVENTS_MAX_BODY_BYTES = IMPORT_MAX_BODY_BYTES


class RowTooLarge(ValueError):
    """One encoded row alone does not fit in a request body."""

    def __init__(self, index: int, size: int, budget: int) -> None:
        self.index = index
        super().__init__(f"import row {index} is {size} bytes, over the {budget}-byte body budget")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items (none for an empty sequence)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def plan_byte_chunks(
    sizes: Sequence[int], *, max_body_bytes: int, envelope_bytes: int
) -> list[range]:
    """Group consecutive JSON array items so each request body stays under the budget.

    ``sizes`` are the encoded lengths of the items; a body is the envelope (everything
    but the items) plus the items joined by ``,``. Every returned range is non-empty and
    satisfies ``envelope + sum(sizes) + (n - 1) <= max_body_bytes``.
    """
    budget = max_body_bytes - envelope_bytes
    plans: list[range] = []
    start, used = 0, 0
    for index, size in enumerate(sizes):
        if size > budget:
            raise RowTooLarge(index, size, budget)
        cost = size if index == start else used + 1 + size
        if index > start and cost > budget:
            plans.append(range(start, index))
            start, cost = index, size
        used = cost
    if start < len(sizes):
        plans.append(range(start, len(sizes)))
    return plans


def plan_count_chunks(weights: Sequence[int], *, max_items: int, max_weight: int) -> list[range]:
    """Group consecutive items so each group has at most ``max_items`` items and ``max_weight``.

    Used for transactional batches: at most 1000 versions and 2000 recipients per request
    (brevo.md 4.1). An item heavier than ``max_weight`` travels alone.
    """
    if max_items < 1:
        raise ValueError("max_items must be at least 1")
    plans: list[range] = []
    start, used = 0, 0
    for index, weight in enumerate(weights):
        full = index - start >= max_items or used + weight > max_weight
        if index > start and full:
            plans.append(range(start, index))
            start, used = index, 0
        used += weight
    if start < len(weights):
        plans.append(range(start, len(weights)))
    return plans
