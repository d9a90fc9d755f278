"""A worker killed (SIGKILL) in the middle of a batch has its batch taken over within 10 s,
and no event reaches Brevo twice even when Brevo had accepted the batch.

Real ``zoom-brevo worker`` processes with the default ``delivery.lease_s`` (8 s) on SQLite
and PostgreSQL. The first worker claims the queued events and sends them; the emulated
Brevo holds that request, or only its answer (``Gate``), while the test kills the worker.
A second worker, running since then, takes the batch over: the time from the kill to its
lease is measured and printed (``pytest -s``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import SERIAL
from tests.faults.gate import Gate
from tests.faults.takeover import (
    holders,
    make_contacts,
    owner_of,
    queue_events,
    sent_twice,
    start,
    wait_for,
    write_config,
)
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store import outbox
from zoom_brevo.store.engine import create_engine, migrate, reading

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120), SERIAL]
EVENTS = 20
TAKEOVER_WITHIN_S = 10.0


def done(engine: Engine) -> int:
    with reading(engine) as conn:
        return outbox.counts(conn)["done"]


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


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[tuple[Sandbox, Gate, str]]:
    box = build_sandbox(enforce_rate_limits=False)
    late = getattr(request, "param", "drop") == "answer_late"
    gate = Gate(box.app, "/brevo/v3/events/batch", drop_held=not late, answer_late=late)
    with serving(gate) as url:
        yield box, gate, url
        gate.open()


def test_a_killed_workers_batch_is_taken_over_within_ten_seconds(
    tmp_path: Path, store: Engine, storage_url: str, sandbox: tuple[Sandbox, Gate, str]
) -> None:
    box, gate, url = sandbox
    config = write_config(tmp_path, box, url, storage_url)
    queue_events(store, EVENTS)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start(config, first_log, "worker")
    second = None
    try:
        wait_for("the first worker sends its batch", gate.arrived.is_set, 30, first_log)
        assert holders(store) == {owner_of(first): EVENTS}
        second = start(config, second_log, "worker")
        wait_for("the second worker starts", lambda: "worker_leases" in second_log.read_text(),
                 30, second_log)  # fmt: skip
        first.kill()
        killed_at = time.monotonic()
        first.wait()
        gate.open()  # the dead worker's request is dropped; the next ones reach Brevo
        heir = owner_of(second)
        taken_at = wait_for("the batch is taken over", lambda: heir in holders(store)
                            or gate.arrivals[-1] > killed_at, 30, second_log)  # fmt: skip
        wait_for("everything is delivered", lambda: done(store) == EVENTS, 30, second_log)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    takeover_s = taken_at - killed_at
    print(f"\ntakeover after SIGKILL ({storage_url.partition(':')[0]}): {takeover_s:.2f} s")  # noqa: T201
    assert takeover_s < TAKEOVER_WITHIN_S
    assert sent_twice(box.brevo) == []
    assert len(box.brevo.state.events) == EVENTS
    assert f"lease_owner={heir}" in second_log.read_text()


@pytest.mark.parametrize("sandbox", ["answer_late"], indirect=True)
def test_a_batch_brevo_accepted_before_the_kill_is_not_sent_again(
    tmp_path: Path, store: Engine, storage_url: str, sandbox: tuple[Sandbox, Gate, str]
) -> None:
    box, gate, url = sandbox
    config = write_config(tmp_path, box, url, storage_url)
    make_contacts(url, EVENTS)
    queue_events(store, EVENTS)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start(config, first_log, "worker")
    second = None
    try:
        wait_for("Brevo accepts the batch", gate.arrived.is_set, 30, first_log)
        assert len(box.brevo.state.events) == EVENTS  # accepted; the answer is held
        first.kill()
        killed_at = time.monotonic()
        first.wait()
        gate.open()
        second = start(config, second_log, "worker")
        done_at = wait_for("the batch is settled", lambda: done(store) == EVENTS, 40, second_log)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    print(f"\nsettled after SIGKILL ({storage_url.partition(':')[0]}): "  # noqa: T201
          f"{done_at - killed_at:.2f} s, none sent twice")  # fmt: skip
    assert sent_twice(box.brevo) == []
    assert len(box.brevo.state.events) == EVENTS
    assert len(gate.arrivals) == 1  # the second worker sent nothing: Brevo held it all
