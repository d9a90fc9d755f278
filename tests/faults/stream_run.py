"""The connector's fleet on PostgreSQL under a 10,000-webhook stream, its processes stopped.

Shared by ``test_kill_stream.py`` (SIGKILL at random) and ``test_rolling_restart.py``
(SIGTERM to each process in turn). Two ``zoom-brevo serve --no-worker`` (behind a round-
robin "load balancer": the sender takes turns), three ``zoom-brevo worker`` and one ``zoom-
brevo backfill`` run on one PostgreSQL schema against the combined sandbox, with the
connector's rate limiter shared in the database. Rate limits: Zoom's emulator enforces the
Pro plan's; Brevo's emulator and the connector are on Brevo's Extended plan (60 contact and
event calls a second, 600 "other" calls an hour, instead of General's 10/10/100: the import
checks of General's 100 an hour would add a minute of waiting to the run). Configuration:
collection at once after ``*.ended`` (``delay_s: 0``), no reconcile pass, no sweep,
recording links as transactional e-mails.

The day of ``tests.faults.stream_world`` is played: 10,000 webhook deliveries (repeats
included) over 66 live meetings and webinars at a steady 100 a second, while ``backfill``
collects 14 past instances. A process is stopped and started again at once, many times over
the stream; the sender retries what a stopped server did not acknowledge, and the backfill
is run again until it exits 0 (it resumes from its cursor). Once the stream is delivered and
the stops are over, the test waits until the store is idle as ``status --json`` defines it
(nothing pending, queued, running, in doubt or awaiting a Brevo import) and measures how
long that took after the last restart.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.faults.event_clock import EventClock, repeated_events
from tests.faults.fleet import Fleet, Proc
from tests.faults.stream_sender import StreamSender
from tests.faults.stream_world import (
    TOTAL_DELIVERIES,
    Expected,
    World,
    brevo_emails,
    brevo_events,
    webhook_stages,
)
from zoom_brevo.delivery.imports import pending_imports
from zoom_brevo.sandbox.combined import WEBHOOK_SECRET, Sandbox, sandbox_config
from zoom_brevo.server.app import WEBHOOK_PATH
from zoom_brevo.store import activity, inbox, jobs, outbox, schema
from zoom_brevo.store.engine import reading

RATE_PER_S = 100.0
RETRY_AFTER_S = 1.0  # Zoom's first retry comes after 5 minutes; compressed
STAGE_DRAIN_WITHIN_S = 240.0
BACKFILL_WITHIN_S = 240.0
SETTLE_WITHIN_S = 240.0
SAMPLE_EVERY_S = 10.0
TEMPLATE_ID = 7
BREVO_PLAN = "extended"
How = Literal["kill", "term"]


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


def unfinished_jobs(engine: Engine) -> dict[str, int]:
    """Queued or running jobs by kind, with those due now or retrying counted apart, and
    unfinished commands by kind."""
    c, o = schema.jobs.c, schema.outbox.c
    now = datetime.now(UTC)
    due = sa.or_(c.run_at <= now, c.attempts > 0).label("due")
    jobs_now = (
        sa.select(c.kind, due, sa.func.count())
        .where(c.state.in_(("queued", "running")))
        .group_by(c.kind, due)
    )
    commands = (
        sa.select(o.kind, sa.func.count())
        .where(o.state.in_(("queued", "running")))
        .group_by(o.kind)
    )
    with reading(engine) as conn:
        found = {f"{k}{'' if d else ' (later)'}": n for k, d, n in conn.execute(jobs_now)}
        found |= {f"command {k}": n for k, n in conn.execute(commands)}
    return found


def busy(engine: Engine) -> list[str]:
    """Why the store is not idle, as ``status --json`` says (empty: idle)."""
    with reading(engine) as conn:
        waiting = len(pending_imports(conn))
        return activity.busy(conn, now=datetime.now(UTC), pending_imports=waiting)


def taken_over(engine: Engine) -> dict[str, int]:
    """Collect jobs and commands claimed more than once: a stop (or an error) cut a claim
    short and another claim finished the work."""
    with reading(engine) as conn:
        again = [
            sa.select(sa.func.count()).where(t.c.attempts > 1, *where)
            for t, where in ((schema.jobs, [schema.jobs.c.kind == "collect"]), (schema.outbox, []))
        ]
        return dict(zip(("collect_jobs", "commands"), map(conn.scalar, again), strict=True))


def wait_until(done: Callable[[], bool], within_s: float, what: str) -> float:
    """Poll ``done`` until it holds three times in a row; when (monotonic) it first held."""
    deadline = time.monotonic() + within_s
    calm, since = 0, 0.0
    while calm < 3:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {within_s} s")
        now = time.monotonic()
        if done():
            since = since if calm else now
            calm += 1
        else:
            calm = 0
        time.sleep(0.3)
    return since


# --- the stops -----------------------------------------------------------------------------------


@dataclass
class Stop:
    """One stop of a process: when (seconds since the stream began, and wall clock), whom,
    how, its exit code, and when its successor was started."""

    at_s: float
    wall: float
    role: str
    how: How
    exit_code: int | None
    restarted_s: float


@dataclass
class Chaos:
    """Stops a process ``stops`` times while the stream runs and starts it again; runs the
    backfill again until it completes; samples the backlog.

    The stops come at random points of the stream's progress (the share of deliveries
    acknowledged, seeded), spread over all of it on a fast machine or a slow one; the last
    comes late in the stream. ``kill``: a random server, worker or the backfill, SIGKILL.
    ``term``: every server and worker in turn (a rolling restart), SIGTERM, waiting for the
    process to exit.
    """

    fleet: Fleet
    store: Engine
    rng: random.Random
    began: float
    how: How
    planned: int
    backfill_kills: int = 0
    stops: list[Stop] = field(default_factory=list)
    backfill_runs: int = 1
    backfill_done: bool = False
    samples: list[tuple[int, ...]] = field(default_factory=list)  # (s, webhooks, jobs, commands)
    job_kinds: list[tuple[int, dict[str, int]]] = field(default_factory=list)  # jobs not done

    def run(self, progress: Callable[[], float], until: Callable[[], bool]) -> None:
        """Stop and supervise until ``until()``; ``progress()``: the stream's, 0 to 1."""
        points = sorted(self.rng.uniform(0.01, 0.99) for _ in range(self.planned))
        while not until():
            self.supervise()
            if points and progress() >= points[0]:
                points.pop(0)
                self.stop_one()
            time.sleep(0.05)
        assert points == [], f"{len(points)} stops not made: the stream ended first"

    def stop_one(self) -> None:
        victim = self.pick()
        if self.how == "term":  # a rolling restart stops a process once it is up
            self.fleet.wait_ready(victim)
        at_s, wall = self.elapsed(), time.time()
        if self.how == "kill":
            self.fleet.kill(victim)
            code = None
        else:
            code = self.fleet.terminate(victim)
        self.restart(victim)
        self.stops.append(Stop(at_s, wall, victim.name, self.how, code, self.elapsed()))

    def pick(self) -> Proc:
        if self.how == "term":
            return self.next_in_turn()
        backfill = self.fleet.procs["backfill"]
        killed_backfill = sum(s.role == "backfill" for s in self.stops)
        # The first kill is the backfill's (it may finish early), the next by chance.
        if (
            backfill.running
            and killed_backfill < self.backfill_kills
            and (not killed_backfill or self.rng.random() < 0.4)
        ):
            return backfill
        kind = self.rng.choice(["server", "worker"])
        names = sorted(n for n in self.fleet.procs if n.startswith(kind))
        return self.fleet.procs[self.rng.choice(names)]

    def next_in_turn(self) -> Proc:
        """Servers and workers one after the other, round and round."""
        names = sorted(n for n in self.fleet.procs if n != "backfill")
        return self.fleet.procs[names[len(self.stops) % len(names)]]

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
            self.job_kinds.append((round(self.elapsed()), unfinished_jobs(self.store)))
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

    @property
    def last_restart_s(self) -> float:
        """When the last stopped process was started again (0 without stops)."""
        return max((s.restarted_s for s in self.stops), default=0.0)


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

    @property
    def idle_after_s(self) -> float:
        """From the last restart (or the end of the stream or backfill, if later) to idle."""
        return self.settled_s - max(self.chaos.last_restart_s, self.stream_s, self.backfill_s)

    def figures(self) -> dict[str, Any]:
        tally = self.sender.tally
        latencies = sorted(tally.latencies_s) or [0.0]
        stops = self.chaos.stops
        return {
            "stops": dict(Counter(f"{s.how} {s.role.split('-')[0]}" for s in stops)),
            "stop_times_s": [round(s.at_s, 1) for s in stops],
            "sigterm_exit_codes": dict(Counter(s.exit_code for s in stops if s.how == "term")),
            "deliveries": tally.deliveries,
            "posts": tally.posts,
            "server_errors_5xx": tally.server_errors,
            "connection_errors": tally.connection_errors,
            "deliveries_retried": tally.retried,
            "answer_p99_s": round(latencies[int(0.99 * (len(latencies) - 1))], 2),
            "stage_ends_s": [round(s) for s in tally.stage_ends_s],
            "backfill_runs": self.chaos.backfill_runs,
            "stream_s": round(self.stream_s, 1),
            "backfill_done_s": round(self.backfill_s, 1),
            "last_restart_s": round(self.chaos.last_restart_s, 1),
            "idle_s": round(self.settled_s, 1),
            "idle_after_last_restart_s": round(self.idle_after_s, 1),
            "claimed_more_than_once": self.claimed_again,
            "backlog_samples": self.chaos.samples,
            "unfinished_jobs_by_kind": self.chaos.job_kinds,
        }


def play(world: World, chaos: Chaos, urls: list[str]) -> Run:
    """Stream, stop processes, finish the backfill and wait until the store is idle."""
    store = chaos.store

    def drained() -> None:  # between stages: the sender waits for the workers
        wait_until(lambda: sender.stopping or outstanding(store)["webhooks"] == 0,
                   STAGE_DRAIN_WITHIN_S, "the inbox drained between stages")  # fmt: skip

    sender = StreamSender(
        [f"{url}{WEBHOOK_PATH}" for url in urls], WEBHOOK_SECRET, rate_per_s=RATE_PER_S,
        retry_after_s=RETRY_AFTER_S, between_stages=drained,
    )  # fmt: skip
    run = Run(chaos, sender)
    thread = threading.Thread(target=sender.play_blocking, args=(webhook_stages(world),))
    thread.daemon = True
    thread.start()
    try:
        tally = sender.tally
        chaos.run(progress=lambda: tally.acknowledged / TOTAL_DELIVERIES, until=lambda: sender.done)
        run.stream_s = chaos.elapsed()
        wait_until(chaos.supervise, BACKFILL_WITHIN_S, "the backfill completed")
        run.backfill_s = chaos.elapsed()
        idle_at = wait_until(lambda: chaos.supervise() and not busy(store),
                             SETTLE_WITHIN_S, "the store idle")  # fmt: skip
        run.settled_s = idle_at - chaos.began
        run.claimed_again = taken_over(store)
    finally:
        sender.stop()
        thread.join(timeout=10)
        print(f"\nstream figures ({chaos.how}):", run.figures())  # noqa: T201
    return run


# --- what must hold ------------------------------------------------------------------------------


def assert_nothing_left_or_dead(store: Engine) -> None:
    """Every stored webhook processed, no job or command dead."""
    with reading(store) as conn:
        webhooks = inbox.counts(conn)
        dead = {"jobs": jobs.counts(conn)["dead"], "commands": outbox.counts(conn)["dead"]}
    assert set(webhooks) <= {"processed", "ignored"}, webhooks  # none pending or failed
    assert dead == {"jobs": 0, "commands": 0}, dead_rows(store)


def dead_rows(store: Engine) -> list[tuple[Any, ...]]:
    """What died and why: table, kind, attempts of the allowed, last error."""
    found: list[tuple[Any, ...]] = []
    with reading(store) as conn:
        for table, kind in ((schema.jobs, "kind"), (schema.outbox, "kind")):
            c = table.c
            stmt = sa.select(c[kind], c.attempts, c.max_attempts, c.last_error)
            rows = conn.execute(stmt.where(c.state == "dead").limit(20))
            found += [(table.name, *row) for row in rows]
    return found


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
    box: Sandbox, want: Expected, clock: EventClock, stops: list[Stop]
) -> None:
    """Each expected e-mail and each expected event reached Brevo exactly once."""
    emails = brevo_emails(box.brevo.state)
    assert sorted(key for key, n in emails.items() if n > 1) == []
    assert emails == want.emails
    repeats = repeated_events(box.brevo)
    describe(repeats, clock, stops)
    assert sorted(repeats) == []
    assert brevo_events(box.brevo.state) == want.events


def describe(repeats: dict[tuple[str, str, str], list[int]], clock: EventClock,
             stops: list[Stop]) -> None:  # fmt: skip
    """Print each repeated event with the stop nearest to its first copy (the evidence)."""
    for key, seqs in sorted(repeats.items()):
        first, *later = (clock.arrival(seq) for seq in seqs)
        near = min(stops, key=lambda s: abs(s.wall - first), default=None)
        nearest = f"{near.how} {near.role} {round(near.wall - first, 2)} s" if near else "none"
        print(f"event repeated: {key}, again after {[round(t - first, 1) for t in later]} s,"  # noqa: T201
              f" nearest stop: {nearest} from the first")  # fmt: skip
