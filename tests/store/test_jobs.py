"""Jobs: due work leased to one worker at a time, retried, and dead-lettered."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.retrying import exhausted
from zoom_brevo.store import jobs, schema

LEASE_S = 60


def enqueue(engine: Engine, **kwargs: object) -> int:
    with engine.begin() as conn:
        job_id = jobs.enqueue(conn, "collect", {"uuid": "u1"}, now=NOW, **kwargs)  # type: ignore[arg-type]
    assert job_id is not None
    return job_id


def claim(
    engine: Engine, owner: str = "w1", at: timedelta = timedelta(0), **kw: object
) -> list[jobs.Job]:
    with engine.begin() as conn:
        return jobs.claim(conn, owner=owner, lease_s=LEASE_S, now=NOW + at, **kw)  # type: ignore[arg-type]


def test_a_unique_key_makes_enqueue_idempotent(engine: Engine) -> None:
    first = enqueue(engine, unique_key="collect:u1")
    with engine.begin() as conn:
        second = jobs.enqueue(conn, "collect", {}, now=NOW, unique_key="collect:u1")
        keyless = jobs.enqueue(conn, "collect", {}, now=NOW)
        other = jobs.enqueue(conn, "collect", {}, now=NOW)
    assert second is None
    assert keyless is not None and other is not None and keyless != other
    with engine.connect() as conn:
        job = jobs.get_by_key(conn, "collect:u1")
    assert job is not None and job.id == first


def test_a_job_is_claimed_only_once_due(engine: Engine) -> None:
    job_id = enqueue(engine, run_at=NOW + timedelta(minutes=5))
    assert claim(engine, at=timedelta(minutes=4, seconds=59)) == []
    [job] = claim(engine, at=timedelta(minutes=5))
    assert (job.id, job.state, job.attempts, job.lease_owner) == (job_id, "running", 1, "w1")
    assert job.lease_expires_at == NOW + timedelta(minutes=5, seconds=LEASE_S)
    assert job.payload == {"uuid": "u1"}


def test_a_leased_job_is_invisible_until_its_lease_expires(engine: Engine) -> None:
    job_id = enqueue(engine)
    claim(engine, owner="dead-worker")
    assert claim(engine, owner="w2", at=timedelta(seconds=LEASE_S - 1)) == []
    [job] = claim(engine, owner="w2", at=timedelta(seconds=LEASE_S))
    assert (job.id, job.lease_owner, job.attempts) == (job_id, "w2", 2)


def test_only_the_lease_holder_can_complete_and_a_done_job_is_not_claimed(engine: Engine) -> None:
    job_id = enqueue(engine)
    claim(engine, owner="w1")
    with engine.begin() as conn:
        assert not jobs.complete(conn, job_id, owner="intruder", now=NOW)
        assert jobs.complete(conn, job_id, owner="w1", now=NOW)
    assert claim(engine, at=timedelta(days=1)) == []
    with engine.connect() as conn:
        assert jobs.counts(conn) == {"queued": 0, "running": 0, "done": 1, "dead": 0}


def test_retry_reschedules_and_the_last_failure_dead_letters(engine: Engine) -> None:
    job_id = enqueue(engine, max_attempts=2)
    claim(engine)
    with engine.begin() as conn:
        assert jobs.retry(
            conn, job_id, owner="w1", at=NOW + timedelta(minutes=15), error="3001", now=NOW
        )
    assert claim(engine, at=timedelta(minutes=14)) == []
    [job] = claim(engine, at=timedelta(minutes=15))
    assert (job.attempts, job.last_error) == (2, "3001")
    with engine.begin() as conn:
        jobs.retry(
            conn, job_id, owner="w1", at=NOW + timedelta(hours=1), error="still 3001", now=NOW
        )
        dead = jobs.get(conn, job_id)
    assert dead is not None
    assert (dead.state, dead.last_error, dead.lease_owner) == ("dead", "still 3001", None)
    assert claim(engine, at=timedelta(days=1)) == []


def test_a_fatal_error_dead_letters_at_once(engine: Engine) -> None:
    job_id = enqueue(engine)
    claim(engine)
    with engine.begin() as conn:
        assert jobs.bury(conn, job_id, owner="w1", error="meeting not found", now=NOW)
        assert jobs.counts(conn)["dead"] == 1


def test_a_final_attempt_whose_worker_died_is_dead_lettered_not_rerun(engine: Engine) -> None:
    job_id = enqueue(engine, max_attempts=1)
    claim(engine, owner="dies")
    assert claim(engine, owner="w2", at=timedelta(seconds=LEASE_S)) == []
    with engine.connect() as conn:
        job = jobs.get(conn, job_id)
    assert job is not None and job.state == "dead"
    assert job.last_error is not None and "lease expired" in job.last_error


def test_extending_a_lease_keeps_the_job_and_fails_once_it_was_lost(engine: Engine) -> None:
    job_id = enqueue(engine)
    claim(engine, owner="w1")
    with engine.begin() as conn:
        assert jobs.extend_lease(
            conn, job_id, owner="w1", lease_s=600, now=NOW + timedelta(seconds=30)
        )
    assert claim(engine, owner="w2", at=timedelta(seconds=LEASE_S + 1)) == []
    assert claim(engine, owner="w2", at=timedelta(seconds=631)) != []
    with engine.begin() as conn:
        assert not jobs.extend_lease(conn, job_id, owner="w1", lease_s=600, now=NOW)


def test_claims_take_due_jobs_in_order_and_filter_by_kind(engine: Engine) -> None:
    with engine.begin() as conn:
        late = jobs.enqueue(conn, "collect", {}, now=NOW, run_at=NOW + timedelta(seconds=2))
        early = jobs.enqueue(conn, "collect", {}, now=NOW, run_at=NOW + timedelta(seconds=1))
        other = jobs.enqueue(conn, "inbox", {}, now=NOW)
    claimed = claim(engine, at=timedelta(seconds=3), limit=2, kinds=["collect"])
    assert [job.id for job in claimed] == sorted([late, early])  # type: ignore[type-var]
    assert [job.id for job in claim(engine, at=timedelta(seconds=3))] == [other]


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(sa.exc.StatementError, match="naive datetime"):
        jobs.enqueue(conn, "collect", {}, now=NOW.replace(tzinfo=None))


def test_concurrent_claimers_never_get_the_same_job(engine: Engine) -> None:
    total = 30
    with engine.begin() as conn:
        for i in range(total):
            jobs.enqueue(conn, "collect", {"i": i}, now=NOW)
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def worker(owner: str) -> None:
        barrier.wait()
        mine = claimed.setdefault(owner, [])
        while batch := claim(engine, owner=owner, limit=2):
            mine.extend(job.id for job in batch)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    everything = [job_id for ids in claimed.values() for job_id in ids]
    assert len(everything) == total
    assert len(set(everything)) == total


@pytest.mark.parametrize(("attempts", "budget"), [(0, 1), (1, 1), (2, 3), (3, 3), (4, 3)])
def test_a_claim_takes_a_job_only_while_retrying_allows_another_attempt(
    engine: Engine, attempts: int, budget: int
) -> None:
    # The claim says the budget rule in SQL; it must agree with retrying.exhausted.
    job_id = enqueue(engine, max_attempts=budget)
    with engine.begin() as conn:
        conn.execute(sa.update(schema.jobs).where(schema.jobs.c.id == job_id).values(
            attempts=attempts))  # fmt: skip
    claimed = bool(claim(engine))
    assert claimed == (not exhausted(attempts, budget))


def test_the_first_job_of_a_kind_is_the_earliest_due_in_the_states_asked(engine: Engine) -> None:
    with engine.begin() as conn:
        assert jobs.first_of_kind(conn, "register_poll") is None
        jobs.enqueue(conn, "collect", {}, now=NOW)
        late = jobs.enqueue(conn, "register_poll", {}, now=NOW, run_at=NOW + timedelta(hours=1))
        early = jobs.enqueue(conn, "register_poll", {}, now=NOW, run_at=NOW + timedelta(hours=2))
    [running] = claim(engine, at=timedelta(hours=1), kinds=["register_poll"])
    with engine.connect() as conn:
        first = jobs.first_of_kind(conn, "register_poll")
        queued = jobs.first_of_kind(conn, "register_poll", ("queued",))
        assert jobs.first_of_kind(conn, "register_poll", ("dead",)) is None
    assert (running.id, first and first.id, queued and queued.id) == (late, late, early)


def test_only_another_job_of_the_kind_under_a_live_lease_holds_it(engine: Engine) -> None:
    with engine.begin() as conn:
        mine = jobs.enqueue(conn, "register_poll", {}, now=NOW)
        other = jobs.enqueue(conn, "register_poll", {}, now=NOW)
        jobs.enqueue(conn, "collect", {}, now=NOW)
    [first] = claim(engine, limit=1, kinds=["register_poll"])
    assert first.id == mine
    claim(engine, owner="w2", kinds=["collect"])
    with engine.connect() as conn:
        assert not jobs.held_by_another(conn, "register_poll", mine, now=NOW)  # itself only
        assert jobs.held_by_another(conn, "register_poll", other, now=NOW)
        expired = NOW + timedelta(seconds=LEASE_S)
        assert not jobs.held_by_another(conn, "register_poll", other, now=expired)
        assert not jobs.held_by_another(conn, "sweep", other, now=NOW)


def test_waking_makes_a_job_waiting_for_later_due_now(engine: Engine) -> None:
    later = NOW + timedelta(minutes=15)
    job_id = enqueue(engine, unique_key="collect:u1", run_at=later)
    with engine.begin() as conn:
        assert not jobs.wake(conn, "collect:other", now=NOW)
        assert jobs.wake(conn, "collect:u1", now=NOW)
        assert not jobs.wake(conn, "collect:u1", now=NOW)  # due already
    assert [job.id for job in claim(engine)] == [job_id]


KEPT = ["pair_leave:Ab+/c==:ada@example.com:1", "pair_leave:Ab+/c==:bob@example.com:2"]
NOT_KEPT = [
    "pair_leave:ab+/c==:ada@example.com:1",  # Zoom's UUIDs are case-sensitive
    "pair_leave:Ab+/c==",
    "pair_leave:Ab+/c==;",
    "pair_leave:Ab+/c=:x",
    "pair_leave:Ab+/c===:x",
    "pair_leave:Ab+/c==X",
]


def test_settling_moot_jobs_ends_exactly_the_queued_ones_under_the_key_prefix(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        for key in KEPT + NOT_KEPT:
            jobs.enqueue(conn, "pair_leave", {}, now=NOW, run_at=NOW + timedelta(hours=1),
                         unique_key=key)  # fmt: skip
        jobs.enqueue(conn, "collect", {}, now=NOW, unique_key="pair_leave:Ab+/c==:collect")
        assert jobs.settle_moot(conn, "pair_leave", "pair_leave:Ab+/c==:", now=NOW) == 2
        states = {key: job.state for key in KEPT + NOT_KEPT if (job := jobs.get_by_key(conn, key))}
    assert states == dict.fromkeys(KEPT, "done") | dict.fromkeys(NOT_KEPT, "queued")


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_settling_moot_jobs_finds_them_through_an_index_under_any_collation(
    engine: Engine,
) -> None:
    # LIKE 'prefix%' can use no index unless the database's collation is C (this test
    # server's is C.UTF-8, which PostgreSQL does not count as C): each collect scanned.
    statements: list[tuple[str, object]] = []

    def keep(*args: object) -> None:
        statements.append((str(args[2]), args[3]))

    with engine.begin() as conn:
        sa.event.listen(conn, "before_cursor_execute", keep)
        jobs.settle_moot(conn, "pair_leave", "pair_leave:u1:", now=NOW)
        sa.event.remove(conn, "before_cursor_execute", keep)
        [(update, params)] = statements
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a near-empty table
        conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {update}", params))  # type: ignore[arg-type]
    assert "Index Scan using ix_jobs_unique_key_bytes" in plan, plan
