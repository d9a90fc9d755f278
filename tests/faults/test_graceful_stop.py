"""SIGTERM to ``serve`` or ``worker`` finishes or hands back what the process holds.

Real processes on SQLite and PostgreSQL; the emulated Brevo holds the process's
``/events`` request at a gate while the test signals it. One SIGTERM: the request is
answered, the batch settled, the process exits 0 with nothing left leased. A second
SIGTERM (the operator is in a hurry): the process gives its batch back untried (no attempt
used) and exits 0 at once, and the next worker delivers it, each event once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SERIAL
from tests.faults.gate import Gate
from tests.faults.takeover import holders, queue_events, sent_twice, start, wait_for, write_config
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.store import outbox, schema
from zoom_brevo.store.engine import create_engine, migrate, reading

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120), SERIAL]
EVENTS = 20


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_schema_url")
        return url
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def store(storage_url: str) -> Iterator[Engine]:
    engine = create_engine(storage_url)
    migrate(engine)
    yield engine
    engine.dispose()


def sandbox_with(gate_drops: bool) -> tuple[Sandbox, Gate]:
    box = build_sandbox(enforce_rate_limits=False)
    return box, Gate(box.app, "/brevo/v3/events", drop_held=gate_drops)


def counts(engine: Engine) -> dict[str, int]:
    with reading(engine) as conn:
        return outbox.counts(conn)


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_sigterm_finishes_the_batch_in_flight_then_exits_0(
    tmp_path: Path, store: Engine, storage_url: str, command: str
) -> None:
    box, gate = sandbox_with(gate_drops=False)
    queue_events(store, EVENTS)
    log = tmp_path / f"{command}.log"
    with serving(gate) as url:
        config = write_config(tmp_path, box, url, storage_url)
        args = ["serve", "--port", str(free_port())] if command == "serve" else ["worker"]
        process = start(config, log, *args)
        try:
            wait_for("the batch is sent", gate.arrived.is_set, 30, log)
            process.send_signal(signal.SIGTERM)
            threading.Timer(1.0, gate.open).start()  # Brevo answers a second later
            code = process.wait(timeout=30)
        finally:
            gate.open()
            if process.poll() is None:
                process.kill()
                process.wait()
    assert code == 0, log.read_text()
    assert counts(store)["done"] == EVENTS
    assert holders(store) == {}
    assert len(box.brevo.state.events) == EVENTS
    assert sent_twice(box.brevo) == []
    assert "worker_stopped" in log.read_text()


def test_a_second_sigterm_hands_the_batch_back_at_once(
    tmp_path: Path, store: Engine, storage_url: str
) -> None:
    box, gate = sandbox_with(gate_drops=True)  # the stopped worker's request never lands
    queue_events(store, EVENTS)
    first_log, next_log = tmp_path / "first.log", tmp_path / "next.log"
    with serving(gate) as url:
        config = write_config(tmp_path, box, url, storage_url)
        first = start(config, first_log, "worker")
        successor = None
        try:
            wait_for("the batch is sent", gate.arrived.is_set, 30, first_log)
            first.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            signalled = time.monotonic()
            first.send_signal(signal.SIGTERM)
            code = first.wait(timeout=10)
            stopped_s = time.monotonic() - signalled
            with reading(store) as conn:
                c = schema.outbox.c
                rows = conn.execute(sa.select(c.state, c.lease_owner, c.attempts)).all()
            gate.open()
            successor = start(config, next_log, "worker")
            wait_for("the next worker delivers", lambda: counts(store)["done"] == EVENTS,
                     30, next_log)  # fmt: skip
        finally:
            gate.open()
            for process in (first, successor):
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait()
    assert code == 0, first_log.read_text()
    assert stopped_s < 3
    assert {(row.state, row.lease_owner, row.attempts) for row in rows} == {("queued", None, 0)}
    assert "delivery_handed_back" in first_log.read_text()
    assert len(box.brevo.state.events) == EVENTS
    assert sent_twice(box.brevo) == []


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["worker", "serve"])
def test_sigterm_while_starting_exits_0_at_once(
    tmp_path: Path, pg_schema_url: str, command: str
) -> None:
    """Stopped while it migrates its store (held up here by a lock on Alembic's table):
    nothing is held yet, so the process exits 0 at once instead of dying with -15."""
    engine = create_engine(pg_schema_url)
    migrate(engine)
    box = build_sandbox(enforce_rate_limits=False)
    log = tmp_path / f"{command}.log"
    try:
        with serving(box.app) as url, engine.connect() as locker:
            locker.execute(sa.text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
            config = write_config(tmp_path, box, url, pg_schema_url)
            args = ["serve", "--port", str(free_port())] if command == "serve" else ["worker"]
            process = start(config, log, *args)
            try:
                time.sleep(4)  # started, blocked in the migration's read of its version
                assert process.poll() is None, log.read_text()
                process.send_signal(signal.SIGTERM)
                code = process.wait(timeout=10)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            locker.rollback()
    finally:
        engine.dispose()
    text = log.read_text()
    assert code == 0, text
    assert "Traceback" not in text
    assert "worker_leases" not in text and "serve_listening" not in text  # never got that far
