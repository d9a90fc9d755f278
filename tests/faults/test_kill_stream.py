"""kill -9 of servers, workers and a backfill while 10,000 webhooks stream in.

Two ``zoom-brevo serve --no-worker`` (behind a round-robin "load balancer": the sender
takes turns), three ``zoom-brevo worker`` and one ``zoom-brevo backfill`` run on one
PostgreSQL schema against the combined sandbox, with the connector's rate limiter shared in
the database. Rate limits: Zoom's emulator enforces the Pro plan's; Brevo's emulator and
the connector are on Brevo's Extended plan (60 contact and event calls a second, 600
"other" calls an hour, instead of General's 10/10/100: the import checks of General's 100
an hour would add a minute of waiting to the run). Configuration: collection at once
after ``*.ended`` (``delay_s: 0``), no reconcile pass, no sweep, recording links as
transactional e-mails.

The day of ``tests.faults.stream_world`` is played: 10,000 webhook deliveries (repeats
included) over 66 live meetings and webinars at a steady 100 a second, while ``backfill``
collects 14 past instances. Every 4-9 s (seeded) a server, a worker or the backfill is
killed with SIGKILL and started again at once; the sender retries what a dead server did
not acknowledge, and the backfill is run again until it exits 0 (it resumes from its
cursor). Once everything is drained: every inbox row is processed, nothing is dead, no
process crashed on a restart, and the emulated Brevo holds exactly the contacts, list
members and attributes computed from the scenario, each expected e-mail exactly once and
each expected event exactly once, but for one window left open by design: Brevo's events
API has no idempotency key, so the events of a batch a killed process had in flight may
come twice (``tests/faults/event_clock.py`` checks that a repeat is that, and only that).

``-s`` prints the figures: kills, deliveries, what the sender saw, recovery time, and the
backlog (pending webhooks, jobs, commands) every 10 s.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SERIAL
from tests.faults.event_clock import EventClock, repeated_events, unexplained
from tests.faults.fleet import Fleet, Proc, wait_healthy
from tests.faults.stream_sender import StreamSender
from tests.faults.stream_world import (
    TOTAL_DELIVERIES,
    Expected,
    World,
    brevo_emails,
    brevo_events,
    build_world,
    expected_state,
    webhook_stages,
)
from zoom_brevo.sandbox.combined import WEBHOOK_SECRET, Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.server.app import WEBHOOK_PATH
from zoom_brevo.store import inbox, jobs, outbox, schema
from zoom_brevo.store.engine import create_engine, reading

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(720), SERIAL]

SERVERS, WORKERS = 2, 3
RATE_PER_S = 100.0
RETRY_AFTER_S = 1.0  # Zoom's first retry comes after 5 minutes; compressed
KILL_EVERY_S = (4.0, 9.0)
MIN_KILLS = 10
BACKFILL_KILLS = 2
STAGE_DRAIN_WITHIN_S = 240.0
BACKFILL_WITHIN_S = 240.0
SETTLE_WITHIN_S = 240.0
SAMPLE_EVERY_S = 10.0
TEMPLATE_ID = 7
BREVO_PLAN = "extended"


def config_text(sandbox_url: str, box: Sandbox, storage_url: str) -> str:
    """The sandbox configuration on PostgreSQL: collection at once, e-mailed recordings.

    No sweep: the scenario's live meetings ended hours ago, and the sweep would collect them
    before their (compressed) webhooks arrive.
    """
    text = sandbox_config(sandbox_url, box.list_ids, storage_url=storage_url)
    collect = (
        "  zoom:\n    collect:\n      delay_s: 0\n      reconcile_after_s: 0\n"
        "      sweep_interval_s: 0\n"
    )
    text = text.replace("  zoom:\n", collect, 1)
    brevo = f"  plan: {BREVO_PLAN}\n  recordings:\n    mode: transactional\n"
    brevo += f"    template_id: {TEMPLATE_ID}\n"
    return text.replace("brevo:\n", "brevo:\n" + brevo, 1)


def backfill_range(world: World) -> tuple[str, ...]:
    """``--from`` and ``--to`` of the past instances (the live ones are after ``--to``)."""
    return ("--from", world.backfill_from.isoformat(), "--to", world.backfill_to.isoformat())


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def store(pg_schema_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_schema_url)
    yield engine
    engine.dispose()


# --- the store's backlog -------------------------------------------------------------------------


def outstanding(engine: Engine) -> dict[str, int]:
    """Work not finished: pending webhooks, queued or running jobs and commands."""
    with reading(engine) as conn:
        waiting = inbox.counts(conn).get("pending", 0)
        job_counts, out_counts = jobs.counts(conn), outbox.counts(conn)
    return {
        "webhooks": waiting,
        "jobs": job_counts["queued"] + job_counts["running"],
        "commands": out_counts["queued"] + out_counts["running"],
    }


def taken_over(engine: Engine) -> dict[str, int]:
    """Collect jobs and commands claimed more than once: a kill (or an error) cut a claim
    short and another claim finished the work."""
    with reading(engine) as conn:
        again = [
            sa.select(sa.func.count()).where(t.c.attempts > 1, *where)
            for t, where in ((schema.jobs, [schema.jobs.c.kind == "collect"]), (schema.outbox, []))
        ]
        return dict(zip(("collect_jobs", "commands"), map(conn.scalar, again), strict=True))


def wait_until(done: Callable[[], bool], within_s: float, what: str) -> None:
    """Poll ``done`` until it holds three times in a row."""
    deadline = time.monotonic() + within_s
    calm = 0
    while calm < 3:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {within_s} s")
        calm = calm + 1 if done() else 0
        time.sleep(0.3)


# --- the kills -----------------------------------------------------------------------------------


@dataclass
class Kill:
    """One SIGKILL: when (seconds since the stream began, and wall clock) and whom."""

    at_s: float
    wall: float
    role: str


@dataclass
class Chaos:
    """Kills a random process every few seconds while the stream runs and restarts it;
    runs the backfill again until it completes; samples the backlog."""

    fleet: Fleet
    store: Engine
    rng: random.Random
    began: float
    kills: list[Kill] = field(default_factory=list)
    backfill_runs: int = 1
    backfill_done: bool = False
    samples: list[tuple[int, ...]] = field(default_factory=list)  # (s, webhooks, jobs, commands)

    def run(self, until: Callable[[], bool]) -> None:
        """Kill and supervise until ``until()``."""
        next_at = self.began + self.rng.uniform(*KILL_EVERY_S)
        while not until():
            self.supervise()
            if time.monotonic() >= next_at:
                self.kill_one()
                next_at = time.monotonic() + self.rng.uniform(*KILL_EVERY_S)
            time.sleep(0.05)

    def kill_one(self) -> None:
        victim = self.pick()
        self.fleet.kill(victim)
        self.kills.append(Kill(self.elapsed(), time.time(), victim.name))
        self.restart(victim)

    def pick(self) -> Proc:
        backfill = self.fleet.procs["backfill"]
        killed_backfill = sum(k.role == "backfill" for k in self.kills)
        # The first kill is the backfill's (it may finish early), the next by chance.
        if (
            backfill.running
            and killed_backfill < BACKFILL_KILLS
            and (not killed_backfill or self.rng.random() < 0.4)
        ):
            return backfill
        kind = self.rng.choice(["server", "worker"])
        names = sorted(n for n in self.fleet.procs if n.startswith(kind))
        return self.fleet.procs[self.rng.choice(names)]

    def restart(self, proc: Proc) -> None:
        if proc.name == "backfill":
            self.backfill_runs += 1
        self.fleet.start(proc)

    def supervise(self) -> bool:
        """Rerun a backfill that failed; ``True`` once one completed. Servers and workers
        must not exit on their own. Samples the backlog now and then."""
        crashed = self.fleet.crashed()
        assert not crashed, f"{crashed} exited on their own:\n{self.fleet.tracebacks()}"
        if self.elapsed() >= SAMPLE_EVERY_S * len(self.samples):
            self.samples.append((round(self.elapsed()), *outstanding(self.store).values()))
        backfill = self.fleet.procs["backfill"]
        if not (self.backfill_done or backfill.running):
            assert backfill.process is not None
            if backfill.process.returncode == 0:
                self.backfill_done = True
            else:
                self.restart(backfill)
        return self.backfill_done

    def elapsed(self) -> float:
        return time.monotonic() - self.began


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Run:
    """One run's processes, sender and figures."""

    chaos: Chaos
    sender: StreamSender
    stream_s: float = 0.0
    backfill_s: float = 0.0
    settled_s: float = 0.0
    claimed_again: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        tally = self.sender.tally
        last_kill = max((k.at_s for k in self.chaos.kills), default=0.0)
        latencies = sorted(tally.latencies_s) or [0.0]
        return {
            "kills": dict(Counter(k.role.split("-")[0] for k in self.chaos.kills)),
            "kill_times_s": [round(k.at_s, 1) for k in self.chaos.kills],
            "deliveries": tally.deliveries,
            "posts": tally.posts,
            "server_errors_5xx": tally.server_errors,
            "connection_errors": tally.connection_errors,
            "deliveries_retried": tally.retried,
            "answer_p99_s": round(latencies[int(0.99 * (len(latencies) - 1))], 2),
            "stage_ends_s": [round(s) for s in tally.stage_ends_s],
            "backfill_runs": self.chaos.backfill_runs,
            "stream_s": round(self.stream_s),
            "backfill_done_s": round(self.backfill_s),
            "settled_s": round(self.settled_s),
            "recovered_after_last_kill_s": round(self.settled_s - last_kill),
            "claimed_more_than_once": self.claimed_again,
            "backlog_samples": self.chaos.samples,
        }


def play(world: World, fleet: Fleet, store: Engine, urls: list[str]) -> Run:
    """Stream, kill, finish the backfill and wait until everything is drained."""

    def drained() -> None:  # between stages: the sender waits for the workers
        wait_until(lambda: sender.stopping or outstanding(store)["webhooks"] == 0,
                   STAGE_DRAIN_WITHIN_S, "the inbox drained between stages")  # fmt: skip

    sender = StreamSender(
        [f"{url}{WEBHOOK_PATH}" for url in urls], WEBHOOK_SECRET, rate_per_s=RATE_PER_S,
        retry_after_s=RETRY_AFTER_S, between_stages=drained,
    )  # fmt: skip
    stages = webhook_stages(world)
    began = time.monotonic()
    run = Run(Chaos(fleet, store, random.Random(2024), began), sender)
    thread = threading.Thread(target=sender.play_blocking, args=(stages,), daemon=True)
    thread.start()
    try:
        run.chaos.run(until=lambda: sender.done)
        run.stream_s = run.chaos.elapsed()
        wait_until(run.chaos.supervise, BACKFILL_WITHIN_S, "the backfill completed")
        run.backfill_s = run.chaos.elapsed()
        wait_until(lambda: run.chaos.supervise() and not any(outstanding(store).values()),
                   SETTLE_WITHIN_S, "all work drained")  # fmt: skip
        run.settled_s = run.chaos.elapsed()
        run.claimed_again = taken_over(store)
    finally:
        sender.stop()
        thread.join(timeout=10)
        print("\nkill stream figures:", run.figures())  # noqa: T201
    return run


# --- what must hold ------------------------------------------------------------------------------


def assert_nothing_left_or_dead(store: Engine) -> None:
    """Every stored webhook processed, no job or command dead."""
    with reading(store) as conn:
        webhooks = inbox.counts(conn)
        dead = {"jobs": jobs.counts(conn)["dead"], "commands": outbox.counts(conn)["dead"]}
    assert set(webhooks) <= {"processed", "ignored"}, webhooks  # none pending or failed
    assert dead == {"jobs": 0, "commands": 0}


def assert_contacts_and_lists(box: Sandbox, want: Expected) -> None:
    """Brevo's contacts, list members and attributes are the scenario's."""
    state = box.brevo.state
    contacts = {c.email: c for c in state.contacts.values() if c.email}
    assert set(contacts) == want.contacts
    for role, members in want.lists.items():
        listed = state.lists[box.list_ids[role]].members
        assert {state.contacts[i].email for i in listed} == members, role
    for name, values in (
        ("MEETING_DURATION", want.minutes),
        ("ATTENDANCE_STATUS", want.status),
        ("UTM_SOURCE", want.source),
    ):
        wrong = {e: contacts[e].attributes.get(name) for e, v in values.items()
                 if contacts[e].attributes.get(name) != v}  # fmt: skip
        assert wrong == {}, name


def assert_each_email_and_event_once(
    box: Sandbox, want: Expected, clock: EventClock, kills: list[Kill]
) -> None:
    """Each e-mail once; each event once, but for the window of ``event_clock``."""
    emails = brevo_emails(box.brevo.state)
    assert sorted(key for key, n in emails.items() if n > 1) == []
    assert emails == want.emails
    repeats = repeated_events(box.brevo)
    describe(repeats, clock, kills)
    assert unexplained(repeats, clock, [(k.wall, k.role) for k in kills]) == {}
    again = Counter({key: len(seqs) - 1 for key, seqs in repeats.items()})
    assert brevo_events(box.brevo.state) - again == want.events


def describe(repeats: dict[tuple[str, str, str], list[int]], clock: EventClock,
             kills: list[Kill]) -> None:  # fmt: skip
    """Print each repeated event with the kill next to its first copy."""
    cuts = [k.wall for k in kills if k.role.startswith(("worker", "backfill"))]
    for key, seqs in sorted(repeats.items()):
        first, *later = (clock.arrival(seq) for seq in seqs)
        cut = min(cuts, key=lambda at: abs(at - first))
        print(f"event repeated: {key}, again after {[round(t - first, 1) for t in later]} s,"  # noqa: T201
              f" a delivering process killed {round(cut - first, 2)} s from the first")  # fmt: skip


# --- the test ------------------------------------------------------------------------------------


def test_kill_9_of_any_process_mid_stream_loses_nothing_and_repeats_only_in_the_events_window(
    world: World, store: Engine, pg_schema_url: str, tmp_path: Path
) -> None:
    box = build_sandbox(world.scenario, brevo_plan=BREVO_PLAN, prepare_brevo=True)
    clock = EventClock(box.app, box.brevo)
    with serving(clock) as sandbox_url:
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(config_text(sandbox_url, box, pg_schema_url), "utf-8")
        fleet = Fleet(config, tmp_path)
        ports = [free_port() for _ in range(SERVERS)]
        for n, port in enumerate(ports):
            fleet.add(f"server-{n}", "serve", "--no-worker", "--port", str(port))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        try:
            wait_healthy(urls)
            for n in range(WORKERS):
                fleet.add(f"worker-{n}", "worker")
            fleet.add("backfill", "backfill", *backfill_range(world), "--json")
            run = play(world, fleet, store, urls)
        finally:
            fleet.stop_all()

    tally = run.sender.tally
    assert tally.refused == []
    assert (tally.deliveries, tally.acknowledged) == (TOTAL_DELIVERIES, TOTAL_DELIVERIES)
    killed = Counter(k.role.split("-")[0] for k in run.chaos.kills)
    assert len(run.chaos.kills) >= MIN_KILLS
    assert killed["server"] and killed["worker"] and killed["backfill"], killed
    assert fleet.tracebacks() == ""  # no process crashed on its restart
    assert_nothing_left_or_dead(store)
    want = expected_state(world)
    assert_contacts_and_lists(box, want)
    assert_each_email_and_event_once(box, want, clock, run.chaos.kills)
