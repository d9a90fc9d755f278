"""Real ``zoom-brevo`` processes over one store, with Brevo's ``/events`` held at a gate.

Shared by the lease tests: a configuration on SQLite or PostgreSQL against the combined
sandbox (the emulated Brevo's event requests pass through ``Gate``), events queued in the
outbox, and helpers to start a worker (or ``serve``), wait for its lease and read who
holds what.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.faults.outage import COLLECT
from zoom_brevo.pipeline.commands import SendEvent
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.sandbox.combined import BREVO_API_KEY, Sandbox, sandbox_config
from zoom_brevo.store import outbox, schema
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.outbox import NewCommand

CLI = [sys.executable, "-c", "from zoom_brevo.cli import main; main()"]


def write_config(tmp_path: Path, box: Sandbox, url: str, storage_url: str, extra: str = "") -> Path:
    """A connector configuration on ``storage_url`` against the sandbox at ``url``."""
    text = sandbox_config(url, box.list_ids, storage_url=f"'{storage_url}'")
    text = text.replace("  zoom:\n", COLLECT, 1) + extra
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(text, "utf-8")
    return path


def make_contacts(url: str, n: int) -> None:
    """The contacts of ``queue_events`` in the sandbox's Brevo (upserted first, as always)."""
    for i in range(n):
        response = httpx.post(
            f"{url}/brevo/v3/contacts",
            json={"email": f"p{i}@lease.example"},
            headers={"api-key": BREVO_API_KEY},
        )
        response.raise_for_status()


def queue_events(engine: Engine, n: int) -> None:
    """``n`` events for ``n`` people, due now."""
    commands = [
        SendEvent(event_name="zoom_attended", email=f"p{i}@lease.example", ledger_key=f"k:{i}")
        for i in range(n)
    ]
    with transaction(engine) as conn:
        outbox.add_many(
            conn,
            (NewCommand(c.kind, c.to_payload(), c.coalescing_key) for c in commands),
            now=datetime.now(UTC),
        )


def start(config: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """``zoom-brevo --config CONFIG ARGS``, its output into ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [*CLI, "--config", str(config), *args], stdout=out, stderr=subprocess.STDOUT
        )


def owner_of(process: subprocess.Popen[bytes]) -> str:
    """The lease owner a process on this machine writes (``host:pid``)."""
    return f"{socket.gethostname()}:{process.pid}"


def holders(engine: Engine) -> Counter[str | None]:
    """Owners of the outbox rows that are running, with how many each holds."""
    with reading(engine) as conn:
        c = schema.outbox.c
        rows = conn.execute(sa.select(c.lease_owner).where(c.state == "running"))
        return Counter(row.lease_owner for row in rows)


def wait_for(what: str, condition: Callable[[], bool], within_s: float, log: Path) -> float:
    """Poll ``condition`` every 20 ms; return the ``time.monotonic()`` it first held at."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {within_s} s\n{log.read_text()}")


def sent_twice(emu: BrevoEmulator) -> list[str]:
    """Events Brevo received more than once (by contact)."""
    seen = Counter(str(sorted(e.identifiers.values())) for e in emu.state.events)
    return sorted(key for key, count in seen.items() if count > 1)
