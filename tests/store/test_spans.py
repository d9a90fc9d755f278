"""The merge of an instance observation into what is stored (``store.spans``), as a rule.

The SQL behaviour on SQLite and PostgreSQL is in ``test_instance_spans.py``; here the
pure rule, with examples and properties over any span and source.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from zoom_brevo.store.facts import Instance
from zoom_brevo.store.spans import SPAN_SOURCES, SpanSource, is_valid, merge, rank

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def seen(start: int | None, end: int | None, source: SpanSource | None, **more: object) -> Instance:
    def at(minute: int | None) -> datetime | None:
        return None if minute is None else T0 + timedelta(minutes=minute)

    return Instance("u", 1, "webinar", start_time=at(start), end_time=at(end),
                    span_source=source, **more)  # type: ignore[arg-type]  # fmt: skip


def span(i: Instance) -> tuple[datetime | None, datetime | None, str | None]:
    return i.start_time, i.end_time, i.span_source


def test_a_report_overrides_what_an_event_said() -> None:
    assert span(merge(seen(0, 60, "event"), seen(0, 72, "report"))) == span(seen(0, 72, "report"))


def test_a_live_echo_only_fills_an_end_still_unknown() -> None:
    assert span(merge(seen(0, 72, "report"), seen(5, 30, "live"))) == span(seen(0, 72, "report"))
    assert span(merge(seen(0, None, "event"), seen(5, 30, "live"))) == span(seen(0, 30, "event"))


def test_a_merge_whose_end_precedes_its_start_keeps_the_stored_span() -> None:
    assert span(merge(seen(0, 60, "event"), seen(90, None, "event"))) == span(seen(0, 60, "event"))


def test_missing_values_never_erase_known_ones() -> None:
    merged = merge(seen(0, 60, "event", topic="Launch", host_id="h"), seen(None, None, None))
    assert (merged.topic, merged.host_id, span(merged)) == (
        "Launch",
        "h",
        span(seen(0, 60, "event")),
    )


minutes = st.none() | st.integers(-120, 240)
sources = st.none() | st.sampled_from(SPAN_SOURCES)
observations = st.builds(seen, minutes, minutes, sources)


@given(observations, observations)
def test_properties_of_any_merge(old: Instance, new: Instance) -> None:
    merged = merge(old, new)
    if is_valid(old.start_time, old.end_time):
        assert is_valid(merged.start_time, merged.end_time)
    assert rank(merged.span_source) >= rank(old.span_source)  # a source is never weakened
    assert merge(merged, new) == merged  # seeing the same observation again changes nothing
    if rank(new.span_source) < rank(old.span_source):  # a weaker one only fills in
        assert all(
            o is None or m == o for o, m in zip(span(old)[:2], span(merged)[:2], strict=True)
        )
