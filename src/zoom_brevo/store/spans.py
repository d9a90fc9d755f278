"""How an observation of a meeting instance merges into what is stored (pure).

The rule of ``store.facts``: a value missing from the observation never erases a known one;
the span's sources rank ``live`` < ``event`` < ``report``; an observation at least as
strong as the stored span's source wins each end it knows, a weaker one only fills an end
still unknown; a merged span whose end precedes its start is refused as a whole (the
stored span stays).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypeVar

if TYPE_CHECKING:
    from zoom_brevo.store.facts import Instance

SpanSource = Literal["live", "event", "report"]
SPAN_SOURCES: tuple[SpanSource, ...] = ("live", "event", "report")  # weakest first
_RANKS: dict[str | None, int] = {None: 0} | {s: n for n, s in enumerate(SPAN_SOURCES, 1)}
T = TypeVar("T")


def rank(source: SpanSource | None) -> int:
    """The strength of a span source (0: none)."""
    return _RANKS[source]


def is_valid(start: datetime | None, end: datetime | None) -> bool:
    """False when both ends are known and the end precedes the start."""
    return start is None or end is None or end >= start


def merge(old: Instance, new: Instance) -> Instance:
    """``old`` with the observation ``new`` merged in (identity and collection kept)."""
    merged = replace(
        old,
        topic=_first(new.topic, old.topic),
        host_id=_first(new.host_id, old.host_id),
        host_email=_first(new.host_email, old.host_email),
        account_id=_first(new.account_id, old.account_id),
        details=_first(new.details, old.details),
        occurrence_id=_first(new.occurrence_id, old.occurrence_id),
    )
    stronger = rank(new.span_source) >= rank(old.span_source)
    first, second = (new, old) if stronger else (old, new)
    start = _first(first.start_time, second.start_time)
    end = _first(first.end_time, second.end_time)
    if not is_valid(start, end):
        return merged
    source = new.span_source if stronger and new.span_source is not None else old.span_source
    return replace(merged, start_time=start, end_time=end, span_source=source)


def _first(ours: T | None, theirs: T | None) -> T | None:
    return theirs if ours is None else ours
