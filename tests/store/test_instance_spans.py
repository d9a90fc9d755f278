"""An instance's span: a weaker source never overwrites a stronger one; no end before start."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.store import facts
from zoom_brevo.store.engine import reading, transaction

from .conftest import NOW

START, END = NOW, NOW + timedelta(minutes=72)
DAY = timedelta(days=1)


def observe(engine: Engine, **values: object) -> bool:
    instance = facts.Instance(uuid="u1", meeting_id=9, kind="webinar", **values)  # type: ignore[arg-type]
    with transaction(engine) as conn:
        return facts.upsert_instance(conn, instance, now=NOW)


def stored(engine: Engine) -> tuple[object, object, object]:
    with reading(engine) as conn:
        found = facts.get_instance(conn, "u1")
    assert found is not None
    return found.start_time, found.end_time, found.span_source


def test_a_live_echo_does_not_overwrite_the_reported_span(engine: Engine) -> None:
    observe(engine, start_time=START, end_time=END, span_source="report")
    observe(engine, start_time=START + DAY, span_source="live")  # a join echoing another start
    assert stored(engine) == (START, END, "report")


def test_the_ended_event_does_not_overwrite_the_report_but_the_report_overwrites_it(
    engine: Engine,
) -> None:
    observe(engine, start_time=START, end_time=END - timedelta(minutes=1), span_source="event")
    observe(engine, start_time=START, end_time=END, span_source="report")
    observe(engine, start_time=START, end_time=END + timedelta(minutes=5), span_source="event")
    assert stored(engine) == (START, END, "report")


def test_a_weaker_source_fills_in_an_unknown_end(engine: Engine) -> None:
    observe(engine, start_time=START, span_source="event")  # *.started
    observe(engine, end_time=END)  # no source: only fills in what is unknown
    assert stored(engine) == (START, END, "event")


def test_a_span_ending_before_it_starts_is_refused(engine: Engine) -> None:
    assert not observe(engine, start_time=END, end_time=START, span_source="report")
    assert stored(engine) == (None, None, None)


@pytest.mark.parametrize("source", ["live", "event", "report"])
def test_a_merge_that_would_end_before_the_start_is_refused(engine: Engine, source: str) -> None:
    observe(engine, start_time=START, end_time=END, span_source="event")
    observe(engine, start_time=END + DAY, span_source=source)  # alone valid, merged not
    assert stored(engine) == (START, END, "event")
