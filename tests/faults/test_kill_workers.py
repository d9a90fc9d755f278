"""kill -9 of delivery workers at random moments loses no contact and no event.

Three worker processes deliver a backlog (contact upserts and events) to the Brevo
emulator through the shared limiter on PostgreSQL; every second or so one of them is
killed with SIGKILL and a new one started. Leases of the killed worker expire and the
others finish its batch. At the end every command is done, every contact and every event
reached Brevo, and no event was sent twice.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import REPO_ROOT, SERIAL
from tests.faults.deliver import API_KEY
from zoom_brevo.pipeline.commands import SendEvent, UpsertContact
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store import outbox, schema
from zoom_brevo.store.engine import create_engine, transaction
from zoom_brevo.store.outbox import NewCommand

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(180), SERIAL]

CONTACTS = 150  # about 25 s of upserts at Brevo's limit: time for the kills
EVENTS = 60
KILLS = 4


@pytest.fixture
def brevo() -> Iterator[tuple[BrevoEmulator, str]]:
    emu = BrevoEmulator(api_keys={API_KEY}, enforce_rate_limits=True, plan="general")
    with serving(emu.app) as base:
        yield emu, f"{base}/v3"


@pytest.fixture
def pg_engine(pg_schema_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_schema_url)
    yield engine
    engine.dispose()


def queue_backlog(engine: Engine) -> None:
    commands: list[UpsertContact | SendEvent] = [
        UpsertContact(email=f"c{n}@faults.example", attributes={"FIRSTNAME": f"C{n}"})
        for n in range(CONTACTS)
    ]
    commands += [
        SendEvent(event_name="zoom_attended", email=f"e{n}@faults.example", ledger_key=f"k:{n}")
        for n in range(EVENTS)
    ]
    with transaction(engine) as conn:
        outbox.add_many(
            conn,
            (NewCommand(c.kind, c.to_payload(), c.coalescing_key) for c in commands),
            now=datetime.now(UTC),
        )


def start(url: str, brevo_url: str, n: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.deliver", url, brevo_url, f"faults-{n}"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def until_ready(*procs: subprocess.Popen[str]) -> None:
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"


def lease_holders(engine: Engine) -> set[str]:
    with transaction(engine) as conn:
        rows = conn.execute(
            sa.select(schema.outbox.c.lease_owner).where(schema.outbox.c.state == "running")
        )
        return {row.lease_owner for row in rows}


def test_killed_workers_lose_nothing_and_send_no_event_twice(
    brevo: tuple[BrevoEmulator, str], pg_engine: Engine, pg_schema_url: str
) -> None:
    emu, brevo_url = brevo
    queue_backlog(pg_engine)
    rng = random.Random(7)
    procs = {f"faults-{n}": start(pg_schema_url, brevo_url, n) for n in range(3)}
    until_ready(*procs.values())
    try:
        for kill in range(KILLS):
            time.sleep(rng.uniform(0.5, 1.5))
            # A worker in the middle of a batch, at a random moment of it.
            holders = sorted(lease_holders(pg_engine) & set(procs))
            victim = procs.pop(rng.choice(holders) if holders else rng.choice(sorted(procs)))
            victim.kill()
            victim.communicate()
            procs[f"faults-{3 + kill}"] = start(pg_schema_url, brevo_url, 3 + kill)  # not awaited
        for proc in procs.values():
            proc.communicate(timeout=120)
            assert proc.returncode == 0
    finally:
        for proc in procs.values():
            proc.kill()
            proc.communicate()

    with transaction(pg_engine) as conn:
        taken_over = conn.execute(
            sa.select(sa.func.count())
            .select_from(schema.outbox)
            .where(schema.outbox.c.attempts > 1)
        ).scalar_one()
        assert taken_over > 0  # the kills did cut batches short: others finished them
        assert outbox.counts(conn) == {
            "queued": 0,
            "running": 0,
            "done": CONTACTS + EVENTS,
            "dead": 0,
        }
    emails = {contact.email for contact in emu.state.contacts.values()}
    assert emails == {f"c{n}@faults.example" for n in range(CONTACTS)}
    sent = Counter(
        (e.event_name, *sorted(map(str, e.identifiers.values()))) for e in emu.state.events
    )
    assert len(sent) == EVENTS
    twice = sorted(key for key, count in sent.items() if count > 1)
    assert twice == []
