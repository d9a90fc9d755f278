"""When the ``register_poll`` job runs: every ``poll_interval_s``, and at once on Brevo's word.

The job itself (``handlers.register_poll``) reads the configured lists and registers who
entered them. This module only queues it, so that both the scheduler's tick and Brevo's
``listAddition`` webhook (``server.brevo_webhook``) queue it the same way: at most one
poll waits in the queue at any time. A burst of 500 list additions therefore costs one
poll (or two, when the burst straddles a poll that is already running): the poll reads
every member Brevo changed since its cursor, whoever announced them. A poll queued behind
a running one waits for it (``handlers.jobs.register_poll_job``, ``another_poll_running``):
two polls at once would register the same people.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.engine import Connection

from zoom_brevo.store import jobs

REGISTER_POLL_JOB = "register_poll"
REGISTER_POLL_MAX_ATTEMPTS = 3  # the next interval's poll looks again anyway


def poll_pending(conn: Connection) -> bool:
    """Whether a ``register_poll`` job is queued or running."""
    return jobs.first_of_kind(conn, REGISTER_POLL_JOB) is not None


def poll_due(conn: Connection, *, now: datetime) -> bool:
    """Whether a queued ``register_poll`` is due by ``now`` (not waiting out a backoff)."""
    waiting = jobs.first_of_kind(conn, REGISTER_POLL_JOB, ("queued",))
    return waiting is not None and waiting.run_at <= now


def another_poll_running(conn: Connection, job_id: int, *, now: datetime) -> bool:
    """Whether a ``register_poll`` other than ``job_id`` runs under a lease still held."""
    return jobs.held_by_another(conn, REGISTER_POLL_JOB, job_id, now=now)


def queue_poll(conn: Connection, *, unique_key: str, now: datetime) -> bool:
    """Queue a ``register_poll`` due now under ``unique_key``; ``False`` if that key exists."""
    queued = jobs.enqueue(
        conn, REGISTER_POLL_JOB, {"key": unique_key}, now=now, unique_key=unique_key,
        max_attempts=REGISTER_POLL_MAX_ATTEMPTS,
    )  # fmt: skip
    return queued is not None


def poll_now(conn: Connection, *, now: datetime) -> bool:
    """Make a poll due now (Brevo announced a list addition); ``False`` if one already is.

    A poll already waiting in the queue will read the new member when it runs; if it waits
    out a backoff after a failed try, it is made due now rather than at its next try. A
    poll already running may have read the list before the member entered it, so one more
    is queued behind it.
    """
    waiting = jobs.first_of_kind(conn, REGISTER_POLL_JOB, ("queued",))
    if waiting is not None:
        return waiting.unique_key is not None and jobs.wake(conn, waiting.unique_key, now=now)
    # Unique per call: the one-waiting rule above is what coalesces, not the key.
    key = f"{REGISTER_POLL_JOB}:webhook:{now.isoformat(timespec='seconds')}:{secrets.token_hex(6)}"
    return queue_poll(conn, unique_key=key, now=now)
