"""Engine behaviour: failures become StoreError; SQLite writers wait for each other."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.store.conftest import NOW, pg_schema
from zoom_brevo.errors import StoreConflict, StoreError
from zoom_brevo.store import engine as store_engine
from zoom_brevo.store import ledger


def test_an_unreachable_database_is_a_store_error(tmp_path: Path) -> None:
    engine = store_engine.create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    with pytest.raises(StoreError, match="database unavailable"), store_engine.transaction(engine):
        pass


def test_an_unreachable_database_is_a_store_error_for_reads_too(tmp_path: Path) -> None:
    # Readers (the worker's inbox loop, the admin pages) rely on it as writers do: the
    # worker waits for the database to come back instead of dying of a driver error.
    engine = store_engine.create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    with pytest.raises(StoreError, match="database unavailable"), store_engine.reading(engine):
        pass
    assert not store_engine.is_current(engine)


def test_a_transaction_commits_on_success_and_rolls_back_on_error(engine: Engine) -> None:
    with store_engine.transaction(engine) as conn:
        ledger.record_if_new(conn, "kept", now=NOW)
    with pytest.raises(RuntimeError), store_engine.transaction(engine) as conn:
        ledger.record_if_new(conn, "dropped", now=NOW)
        raise RuntimeError("handler failed")
    with store_engine.reading(engine) as conn:
        assert ledger.already_sent(conn, ["kept", "dropped"]) == {"kept"}


def test_a_sqlite_writer_waits_for_the_lock_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = store_engine.create_engine(url, busy_timeout_ms=5000)
    store_engine.migrate(engine)
    holding = threading.Event()

    def hold_the_write_lock() -> None:
        with engine.begin() as conn:
            ledger.record_if_new(conn, "first", now=NOW)
            holding.set()
            time.sleep(0.3)

    thread = threading.Thread(target=hold_the_write_lock)
    thread.start()
    holding.wait(5)
    with store_engine.transaction(engine) as conn:  # blocks ~0.3 s, then succeeds
        assert ledger.already_sent(conn, ["first"]) == {"first"}
    thread.join()
    engine.dispose()


def test_a_sqlite_writer_gives_up_with_a_store_error_after_the_busy_timeout(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    patient = store_engine.create_engine(url)
    store_engine.migrate(patient)
    impatient = store_engine.create_engine(url, busy_timeout_ms=50)
    with patient.begin() as conn:
        conn.execute(sa.text("SELECT 1"))
        with pytest.raises(StoreConflict, match="locked"), store_engine.transaction(impatient):
            pass
        with store_engine.reading(impatient) as reader:  # readers are not blocked (WAL)
            assert reader.execute(sa.text("SELECT 1")).scalar() == 1
    patient.dispose()
    impatient.dispose()


@pytest.mark.postgres
def test_a_postgresql_deadlock_is_a_store_conflict_and_the_other_transaction_commits(
    pg_url: str,
) -> None:
    # Two transactions take two rows' locks in opposite orders; PostgreSQL ends one of
    # them (40P01) so that the other can go on. The loser may simply run again.
    with pg_schema(pg_url) as url:
        engine = store_engine.create_engine(url)
        store_engine.migrate(engine)
        with store_engine.transaction(engine) as conn:
            ledger.record_if_new(conn, "a", now=NOW)
            ledger.record_if_new(conn, "b", now=NOW)
        table = "ledger"
        first_locked, outcomes = threading.Barrier(2), list[BaseException | None]()

        def lock_in_order(first: str, second: str) -> None:
            try:
                with store_engine.transaction(engine) as conn:
                    touch = f"UPDATE {table} SET sent_at = sent_at WHERE key = :k"
                    conn.execute(sa.text(touch), {"k": first})
                    first_locked.wait(5)
                    conn.execute(sa.text(touch), {"k": second})
                outcomes.append(None)
            except BaseException as exc:  # noqa: BLE001 - the outcome is what is checked
                outcomes.append(exc)

        threads = [
            threading.Thread(target=lock_in_order, args=pair) for pair in (("a", "b"), ("b", "a"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        engine.dispose()
    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "StoreConflict"]
    [lost] = [o for o in outcomes if o is not None]
    assert "deadlock detected" in str(lost)
