"""Shared by the outage tests: a world, the connector's processes, and what Brevo holds.

The connector runs as the operator runs it (``zoom-brevo worker`` / ``serve`` processes
with a configuration file) against the combined sandbox served by the test. What Brevo
should hold is not computed here by hand: a **control run** plays the same world through
the same processes against a sandbox without faults, and an outage run must end with the
same contacts, list members and events, each event once.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.scale.conftest import Recorder, Seen
from zoom_brevo.delivery.imports import pending_imports
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import Instance, Scenario
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.sandbox.webhook_sender import ZoomEvents, encode
from zoom_brevo.server.intake import Notification, classify
from zoom_brevo.store import activity, inbox, jobs, outbox, schema
from zoom_brevo.store.engine import create_engine, migrate, reading, transaction

CLI = [sys.executable, "-c", "from zoom_brevo.cli import main; main()"]
ACCOUNT_ID = "sandbox-account"
# Collect one second after the end; no reconcile pass (it would only repeat the collect);
# no sweep (it would collect the instances before their webhooks are in, in any order).
COLLECT = (
    "  zoom:\n    collect:\n      delay_s: 1\n      reconcile_after_s: 0\n"
    "      sweep_interval_s: 0\n"
)
# Computed from "now" (recency decays): two runs minutes apart may round it differently.
TIME_DEPENDENT = ("ZOOM_ENGAGEMENT_SCORE",)


# --- the world ------------------------------------------------------------------------------


def build_world(*, meetings: int, participants: int, webinar_registrants: int = 0) -> Scenario:
    """Ended meetings (and optionally a webinar) of yesterday; the same for the same args.

    Nobody attends two instances: a contact's per-meeting attributes (duration, join date)
    are those of the instance delivered last, which two workers may deliver in either order.
    """
    anchor = (datetime.now(UTC) - timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    sc = Scenario(seed=11, anchor=anchor)
    host = sc.user(email="host@example.com")
    for n in range(meetings):
        start = anchor - timedelta(hours=n + 2)
        sc.meeting(host, topic=f"Outage meeting {n}", participants=participants, start=start,
                   people_offset=n * participants)  # fmt: skip
    if webinar_registrants:
        sc.webinar(host, topic="Outage webinar", registrants=webinar_registrants,
                   attendees=webinar_registrants * 2 // 3,
                   people_offset=meetings * participants)  # fmt: skip
    return sc


def ended_instances(world: Scenario) -> list[Instance]:
    """The latest instance of every meeting and webinar."""
    return [hosted.latest for hosted in (*world.meetings, *world.webinars)]


def queue_ended(engine: Engine, instances: Iterable[Instance]) -> int:
    """Store a signed-and-verified ``*.ended`` webhook per instance, as intake would."""
    events = ZoomEvents(account_id=ACCOUNT_ID)
    rows = []
    for inst in instances:
        raw = encode(events.ended(inst))
        note = classify(raw)
        assert isinstance(note, Notification)
        rows.append(inbox.NewInboxEvent(note.dedupe_key, note.event_type, raw, {}))
    with transaction(engine) as conn:
        stored = inbox.insert_many(conn, rows, now=datetime.now(UTC))
    return sum(1 for row_id in stored if row_id is not None)


# --- processes ------------------------------------------------------------------------------


def start_cli(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A ``zoom-brevo`` process, its output (stdout and stderr) into ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen([*CLI, *args], stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then its exit code (killed after 20 s)."""
    process.terminate()
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def write_config(
    tmp_path: Path, box: Sandbox, sandbox_url: str, storage_url: str, *, oauth_url: str = ""
) -> Path:
    """The configuration of a connector on ``storage_url`` talking to the sandbox."""
    text = sandbox_config(sandbox_url, box.list_ids, storage_url=f"'{storage_url}'")
    text = text.replace("  zoom:\n", COLLECT, 1)
    if oauth_url:
        text = text.replace(f"oauth_base_url: {sandbox_url}/zoom", f"oauth_base_url: {oauth_url}")
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(text, "utf-8")
    return path


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``serve`` answers ``/healthz``."""
    deadline = time.monotonic() + 60  # start-up time is not what is tested
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    pytest.fail(f"serve did not become healthy:\n{log.read_text()}")


def logs_of(tmp_path: Path) -> str:
    """Every process log of the run (for failure messages)."""
    return "\n".join(f"== {p.name}\n{p.read_text()}" for p in sorted(tmp_path.glob("*.log")))


# --- the store ------------------------------------------------------------------------------


def work_left(engine: Engine) -> int:
    """How many kinds of work are not finished (0: idle as ``status --json`` says; jobs
    scheduled for later, such as the daily replay look-ups, do not count)."""
    with reading(engine) as conn:
        waiting = len(pending_imports(conn))
        return len(activity.busy(conn, now=datetime.now(UTC), pending_imports=waiting))


def wait_settled(engine: Engine, within_s: float, tmp_path: Path) -> float:
    """Wait until no work is left (three looks in a row); the wall time it was first seen."""
    deadline = time.monotonic() + within_s
    calm, first_calm = 0, 0.0
    while time.monotonic() < deadline:
        try:
            idle = work_left(engine) == 0
        except Exception:  # noqa: BLE001 (the database may be the thing that is down)
            idle = False
        if idle and calm == 0:
            first_calm = time.time()
        calm = calm + 1 if idle else 0
        if calm >= 3:
            return first_calm
        time.sleep(0.5)
    pytest.fail(f"work left after {within_s:g} s:\n{logs_of(tmp_path)[-20000:]}")


def dead_work(engine: Engine) -> dict[str, int]:
    """What was given up on: failed webhooks, dead jobs and dead commands."""
    with reading(engine) as conn:
        return {
            "failed_webhooks": inbox.counts(conn).get("failed", 0),
            "dead_jobs": jobs.counts(conn)["dead"],
            "dead_commands": outbox.counts(conn)["dead"],
        }


def commands_done(engine: Engine) -> int:
    """Outbox commands delivered."""
    with reading(engine) as conn:
        return outbox.counts(conn)["done"]


def most_attempts(engine: Engine) -> dict[str, int]:
    """The most attempts any command and any job used (their budget is ``max_attempts``)."""
    with reading(engine) as conn:
        return {
            "command": conn.execute(sa.select(sa.func.max(schema.outbox.c.attempts))).scalar_one(),
            "job": conn.execute(sa.select(sa.func.max(schema.jobs.c.attempts))).scalar_one(),
        }


# --- what Brevo holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """Brevo's contacts (e-mail -> attributes, list ids) and every event received."""

    contacts: dict[str, tuple[str, frozenset[int]]]
    events: Counter[str]

    def compare(self, expected: Held) -> dict[str, int]:
        """``lost`` and ``duplicated`` contacts and events, and ``changed`` contacts."""
        lost_contacts = expected.contacts.keys() - self.contacts.keys()
        extra_contacts = self.contacts.keys() - expected.contacts.keys()
        changed = {e for e in expected.contacts.keys() & self.contacts.keys()
                   if expected.contacts[e] != self.contacts[e]}  # fmt: skip
        lost_events = expected.events - self.events
        extra_events = self.events - expected.events
        return {
            "lost": len(lost_contacts) + sum(lost_events.values()),
            "duplicated": sum(extra_events.values()),
            "unexpected_contacts": len(extra_contacts),
            "changed_contacts": len(changed),
        }


def differences(got: Held, expected: Held) -> list[str]:
    """Readable differences: contacts missing or extra, attributes and lists that differ."""
    out = [f"missing contact {e}" for e in sorted(expected.contacts.keys() - got.contacts.keys())]
    out += [f"extra contact {e}" for e in sorted(got.contacts.keys() - expected.contacts.keys())]
    for email in sorted(expected.contacts.keys() & got.contacts.keys()):
        (want_attrs, want_lists), (got_attrs, got_lists) = (
            expected.contacts[email],
            got.contacts[email],
        )
        want, have = json.loads(want_attrs), json.loads(got_attrs)
        for name in sorted(want.keys() | have.keys()):
            if want.get(name) != have.get(name):
                out.append(f"{email} {name}: expected {want.get(name)!r}, got {have.get(name)!r}")
        if want_lists != got_lists:
            out.append(f"{email} lists: expected {sorted(want_lists)}, got {sorted(got_lists)}")
    out += [f"event missing: {e}" for e in sorted((expected.events - got.events).elements())]
    out += [f"event extra: {e}" for e in sorted((got.events - expected.events).elements())]
    return out


def _timeless(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if k not in TIME_DEPENDENT}


def held(box: Sandbox) -> Held:
    """What the emulated Brevo of ``box`` holds now."""
    state = box.brevo.state
    contacts = {
        c.email: (json.dumps(_timeless(c.attributes), sort_keys=True, default=str),
                  frozenset(c.list_ids))
        for c in state.contacts.values()
        if c.email
    }  # fmt: skip
    events: Counter[str] = Counter(
        json.dumps(
            [e.event_name, e.identifiers, e.event_properties, e.event_date],
            sort_keys=True,
            default=str,
        )
        for e in state.events
    )
    return Held(contacts, events)


# --- a run of workers over a world ----------------------------------------------------------


class CallRecorder(Recorder):
    """The scale tests' recorder, also noting Zoom's token endpoint (bucket ``zoom-token``)."""

    def _note(self, arrived: float, method: str, path: str, start: Any) -> None:
        if path.endswith("/oauth/token"):
            self.calls.append(Seen(arrived, "zoom-token", start["status"]))
            return
        super()._note(arrived, method, path, start)


@dataclass
class Run:
    """One connector run: the sandbox (behind a call recorder), its store and timings."""

    box: Sandbox
    recorder: CallRecorder
    engine: Engine
    config: Path
    started_at: float = 0.0
    settled_at: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def calls(self, prefix: str) -> list[Seen]:
        """Recorded API calls whose bucket starts with ``prefix`` (``"brevo:"``)."""
        return [c for c in self.recorder.calls if c.bucket.startswith(prefix)]

    def statuses(self, prefix: str) -> Counter[int]:
        """How many calls of ``prefix`` got each status."""
        return Counter(c.status for c in self.calls(prefix))

    def first_success_after(self, prefix: str, at_s: float) -> float:
        """Seconds from ``at_s`` to the first 2xx of ``prefix`` after it."""
        times = [c.at_s for c in self.calls(prefix) if c.at_s >= at_s and c.status < 300]
        return min(times) - at_s if times else float("inf")


@contextlib.contextmanager
def worker_run(
    tmp_path: Path,
    world: Scenario,
    storage_url: str,
    *,
    workers: int,
    prepare: Callable[[Run], None] = lambda _run: None,
    oauth_url: str = "",
) -> Iterator[Run]:
    """``workers`` ``zoom-brevo worker`` processes over the store until the block ends.

    The ``*.ended`` webhooks of every instance are stored, then ``prepare`` (faults) runs,
    then the workers start (``run.started_at``). Every worker must exit 0 without a
    traceback.
    """
    box = build_sandbox(world, prepare_brevo=True)
    recorder = CallRecorder(box.app)
    engine = create_engine(storage_url)
    migrate(engine)
    with serving(recorder) as sandbox_url:
        config = write_config(tmp_path, box, sandbox_url, storage_url, oauth_url=oauth_url)
        run = Run(box, recorder, engine, config)
        queue_ended(engine, ended_instances(world))
        prepare(run)
        run.started_at = time.time()
        procs = [
            start_cli(["--config", str(config), "worker"], tmp_path / f"worker-{n}.log")
            for n in range(workers)
        ]
        try:
            yield run
        finally:
            codes = [stop(p) for p in procs]
            engine.dispose()
        logs = logs_of(tmp_path)
        assert codes == [0] * workers, logs[-20000:]
        assert "Traceback" not in logs, logs[-20000:]


def control_run(tmp_path: Path, world: Scenario) -> Held:
    """What Brevo holds after the same world is delivered by one worker without faults."""
    folder = tmp_path / "control"
    folder.mkdir()
    with worker_run(folder, world, f"sqlite:///{folder / 'store.db'}", workers=1) as run:
        wait_settled(run.engine, 120, folder)
        assert dead_work(run.engine) == {"failed_webhooks": 0, "dead_jobs": 0, "dead_commands": 0}
        return held(run.box)
