"""Dead letters: dead jobs and outbox commands, listed together and re-queued."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.store import deadletters, jobs, outbox


def make_dead(engine: Engine) -> tuple[int, int]:
    with engine.begin() as conn:
        job_id = jobs.enqueue(conn, "collect", {}, now=NOW)
        command_id = outbox.add(conn, outbox.NewCommand("event", {}), now=NOW)
        jobs.claim(conn, owner="w", lease_s=10, now=NOW)
        outbox.claim_batch(conn, limit=10, owner="w", lease_s=10, now=NOW)
        assert job_id is not None
        jobs.bury(conn, job_id, owner="w", error="not found", now=NOW)
        outbox.bury(conn, [command_id], owner="w", error="400", now=NOW + timedelta(seconds=1))
    return job_id, command_id


def test_dead_jobs_and_commands_are_listed_newest_first(engine: Engine) -> None:
    job_id, command_id = make_dead(engine)
    with engine.connect() as conn:
        letters = deadletters.list_dead(conn)
        assert deadletters.count(conn) == 2
    assert [(d.ref, d.kind, d.last_error, d.attempts) for d in letters] == [
        (f"outbox:{command_id}", "event", "400", 1),
        (f"job:{job_id}", "collect", "not found", 1),
    ]


def test_requeued_letters_run_again_with_fresh_attempts(engine: Engine) -> None:
    job_id, command_id = make_dead(engine)
    later = NOW + timedelta(hours=1)
    with engine.begin() as conn:
        assert deadletters.requeue(conn, [f"job:{job_id}", "job:999999"], now=later) == 1
        [job] = jobs.claim(conn, owner="w2", lease_s=10, now=later)
        assert (job.id, job.attempts) == (job_id, 1)
        assert deadletters.requeue_all(conn, now=later) == 1
        [command] = outbox.claim_batch(conn, limit=5, owner="w2", lease_s=10, now=later)
        assert command.id == command_id
        assert deadletters.count(conn) == 0


@pytest.mark.parametrize("ref", ["job", "job:", "outbox:x", "inbox:1", "12"])
def test_malformed_references_are_refused(ref: str) -> None:
    with pytest.raises(ValueError, match="not a dead letter reference"):
        deadletters.parse_ref(ref)
