"""Dispatch: every sample Zoom sends is handled; unknown, invalid and poison rows are contained."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.handlers import dispatch
from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.handlers.dispatch import handled_events
from zoom_brevo.store import facts, inbox
from zoom_brevo.store.engine import reading, transaction

from .conftest import LISTS, NOW, processor, put


def statuses(engine: Engine) -> dict[int, tuple[str, str | None]]:
    with reading(engine) as conn:
        return {
            i: (row.status, row.error)
            for i in range(1, 100)
            if (row := inbox.get(conn, i)) is not None
        }


def samples(shared_dir: Path) -> list[Path]:
    folder = shared_dir / "samples" / "zoom-webhooks"
    return sorted(p for p in folder.glob("*.json") if "url_validation" not in p.name)


def test_every_sample_payload_is_handled_without_error(engine: Engine, shared_dir: Path) -> None:
    # app_deauthorized erases everything (pending rows included), so it goes last.
    files = sorted(samples(shared_dir), key=lambda p: "deauthorized" in p.name)
    assert len(files) >= 13
    ids = [put(engine, json.loads(p.read_text("utf-8"))) for p in files]
    outcome = processor(engine, HandlerOptions(lists=LISTS, account_id="AAAAAABBBB")).process_all()
    found = statuses(engine)
    bad = {files[ids.index(i)].name: s for i, s in found.items() if s[0] != "processed"}
    assert bad == {}
    assert outcome.processed == len([i for i in ids if i is not None])


def test_every_sample_event_name_has_a_handler(shared_dir: Path) -> None:
    names = {json.loads(p.read_text("utf-8"))["event"] for p in samples(shared_dir)}
    assert names <= handled_events()


def test_an_unknown_event_is_stored_and_marked_ignored(engine: Engine) -> None:
    put(engine, {"event": "meeting.chat_message_sent", "event_ts": 1, "payload": {}})
    outcome = processor(engine).process_all()
    assert (outcome.ignored, outcome.failed) == (1, 0)
    assert statuses(engine)[1] == ("ignored", None)


def test_a_payload_that_cannot_validate_fails_at_once_with_the_reason(engine: Engine) -> None:
    put(engine, {"event": "meeting.started", "event_ts": 1, "payload": {"object": "nope"}})
    processor(engine).process_all()
    status, error = statuses(engine)[1]
    assert status == "failed"
    assert error is not None and "payload.object" in error


@pytest.mark.parametrize("attempts", [1, 3])
def test_a_poison_row_is_retried_a_bounded_number_of_times_and_blocks_no_other(
    engine: Engine, attempts: int
) -> None:
    poison = {"event": "meeting.ended", "event_ts": 1, "payload": {"object": {"id": "1"}}}
    good = {"event": "meeting.chat_message_sent", "event_ts": 2, "payload": {}}
    put(engine, poison)
    put(engine, good)
    worker = processor(engine)
    worker.max_attempts = attempts
    passes = [worker.process_batch() for _ in range(attempts)]
    assert statuses(engine)[2] == ("ignored", None)
    status, error = statuses(engine)[1]
    assert status == "failed"
    assert error is not None and "uuid" in error
    assert [p.deferred for p in passes] == [1] * (attempts - 1) + [0]


POISON = {"event": "meeting.ended", "event_ts": 1, "payload": {"object": {"id": "1"}}}


def test_a_restart_does_not_reset_a_poison_rows_count(engine: Engine) -> None:
    put(engine, POISON)
    for _ in range(dispatch.DEFAULT_MAX_ATTEMPTS):  # a new process (a restart) each pass
        assert statuses(engine)[1][0] == "pending"
        processor(engine).process_batch()
    assert statuses(engine)[1][0] == "failed"
    with reading(engine) as conn:
        row = inbox.get(conn, 1)
    assert row is not None and row.attempts == dispatch.DEFAULT_MAX_ATTEMPTS


def test_a_failed_try_waits_for_the_time_the_decision_gives(engine: Engine) -> None:
    put(engine, POISON)
    later = [NOW]
    worker = dispatch.InboxProcessor(
        engine, HandlerOptions(), lambda: later[0],
        retry_policy=BackoffPolicy(base_s=60.0, cap_s=60.0),
    )  # fmt: skip
    assert worker.process_batch().deferred == 1
    later[0] = NOW + timedelta(seconds=29)  # the jittered wait is 30 to 60 s
    assert worker.process_batch() == dispatch.Outcome()
    later[0] = NOW + timedelta(seconds=60)
    assert worker.process_batch().deferred == 1


def meeting_started(n: int) -> dict[str, object]:
    return {"event": "meeting.started", "event_ts": n, "payload": {"account_id": "a", "object": {
        "id": str(800 + n), "uuid": f"u{n}==", "topic": "T", "host_id": "h",
        "start_time": "2026-12-01T15:00:00Z"}}}  # fmt: skip


def test_a_group_of_rows_is_one_transaction_and_a_bad_row_rolls_back_alone(
    engine: Engine,
) -> None:
    for n in range(1, 4):
        put(engine, meeting_started(n))
    put(engine, {"event": "meeting.ended", "event_ts": 9, "payload": {"object": {"id": "1"}}})
    put(engine, meeting_started(5))
    outcome = processor(engine).process_batch()
    assert (outcome.processed, outcome.deferred) == (4, 1)
    with reading(engine) as conn:
        found = {i.uuid for i in facts.list_instances(conn)}
    assert found == {"u1==", "u2==", "u3==", "u5=="}
    assert statuses(engine)[4] == ("pending", None)  # its savepoint rolled back; tried again


def test_a_group_whose_commit_fails_is_handled_again_row_by_row(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(1, 4):
        put(engine, meeting_started(n))
    real = transaction
    calls = []

    @contextmanager
    def first_commit_lost(target: Engine) -> Iterator[Connection]:
        calls.append(1)
        with real(target) as conn:
            yield conn
            if len(calls) == 1:  # the group's: its work is rolled back, not committed
                raise sa.exc.OperationalError("COMMIT", {}, Exception("connection lost"))

    monkeypatch.setattr(dispatch, "transaction", first_commit_lost)
    outcome = processor(engine).process_batch()
    assert outcome.processed == 3
    assert len(calls) == 1 + 3  # the group, then one transaction per row
    with reading(engine) as conn:
        assert len(facts.list_instances(conn)) == 3
    assert {s for s, _ in statuses(engine).values()} == {"processed"}
