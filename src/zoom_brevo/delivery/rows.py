"""The store side of one claimed batch: complete, retry, bury or give back its outbox rows.

Every method is one short transaction and only touches rows this worker still holds (the
store checks the lease owner), so a row taken over after a lost lease is left alone. Ids
go to the store in slices of at most ``IDS_PER_STATEMENT``, under SQLite's limit of bound
parameters, however large the batch, each padded to a power of two (``slices``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.delivery.decisions import Decision, decide
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.errors import ApiError, RetriableApiError
from zoom_brevo.observe import IGNORE, DeliveryObserver
from zoom_brevo.store import ledger, outbox
from zoom_brevo.store.engine import transaction

log = structlog.get_logger(__name__)
IDS_PER_STATEMENT = 2048  # a power of two, under SQLite's 32,766 bound parameters


class Claimed(Protocol):
    """What settling needs of a claimed outbox row (``outbox.Command`` has it)."""

    @property
    def id(self) -> int:
        """The row id."""

    @property
    def attempts(self) -> int:
        """Attempts used, this claim included."""

    @property
    def max_attempts(self) -> int:
        """The row's own attempt limit."""

    @property
    def kind(self) -> str:
        """The command's kind (``event``, ``contact``...)."""

    @property
    def created_at(self) -> datetime:
        """When the command entered the outbox."""


def slices(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    """``ids`` in slices small enough for one statement, each padded to a power of two
    items by repeating its last id (``IN`` ignores the repeats).

    Every length of an ``IN (?, ...)`` list is a statement of its own, and the sqlite3
    module keeps the last 128 prepared per connection (Python docs, ``sqlite3.connect``,
    ``cached_statements``), about 110 bytes per bound id: with the lengths of a large
    sync's batches the cache grew to about 21 MB at 100,000 attendees. Powers of two
    leave at most 12 lengths (docs/benchmarks.md, "Peak memory (issue 19)").
    """
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        part = ids[start : start + IDS_PER_STATEMENT]
        room = 1 << (len(part) - 1).bit_length()
        yield [*part, *[part[-1]] * (room - len(part))]


class Settler:
    """Settles the rows of one batch claimed by ``owner``."""

    def __init__(
        self,
        engine: Engine,
        claimed: Sequence[Claimed],
        *,
        owner: str,
        lease_s: float,
        max_attempts: int,
        policy: BackoffPolicy,
        clock: Callable[[], datetime],
        report: DeliveryReport,
        observer: DeliveryObserver = IGNORE,
    ) -> None:
        self._engine = engine
        self._observer = observer
        self._rows = {command.id: command for command in claimed}
        self._owner = owner
        self._lease_s = lease_s
        self._max_attempts = max_attempts
        self._policy = policy
        self._clock = clock
        self._report = report
        self._lease_renewed_at = clock()
        self._marked: dict[int, datetime] = {}  # rows whose send began in this batch

    @property
    def ids(self) -> list[int]:
        """Every row held."""
        return list(self._rows)

    def hold(self, claimed: Sequence[Claimed]) -> None:
        """Settle these rows too (claimed later, for the same request)."""
        self._rows.update((row.id, row) for row in claimed)

    def keep_lease(self) -> None:
        """Extend the batch's lease once half of it has passed (a long run of upserts)."""
        now = self._clock()
        if now - self._lease_renewed_at < timedelta(seconds=self._lease_s / 2):
            return
        with transaction(self._engine) as conn:
            for part in slices(list(self._rows)):
                outbox.extend_lease(conn, part, owner=self._owner, lease_s=self._lease_s, now=now)
        self._lease_renewed_at = now

    def renew(self) -> int:
        """Extend the lease of every row still held to ``lease_s`` from now (the heartbeat).

        Returns how many rows this worker still holds; settled rows and rows taken over
        after a lost lease are left alone.
        """
        now = self._clock()
        with transaction(self._engine) as conn:
            kept = sum(
                outbox.extend_lease(conn, part, owner=self._owner, lease_s=self._lease_s, now=now)
                for part in slices(list(self._rows))
            )
        self._lease_renewed_at = now
        return kept

    def in_doubt_since(self, ids: Sequence[int]) -> datetime | None:
        """When the earliest unsettled send of these rows began (``None``: not in doubt)."""
        found = [getattr(self._rows[i], "send_started_at", None) for i in ids if i in self._rows]
        found += [self._marked.get(i) for i in ids]
        return min((t for t in found if t is not None), default=None)

    def mark_sending(self, ids: Sequence[int]) -> None:
        """Note that these rows' send begins now: in doubt until they are settled."""
        if ids:
            now = self._clock()
            with transaction(self._engine) as conn:
                for part in slices(ids):
                    outbox.mark_sending(conn, part, owner=self._owner, now=now)
            self._marked.update(dict.fromkeys(ids, now))

    def retry_in_doubt(self, ids: Sequence[int], error: ApiError) -> bool:
        """Try rows again later, still in doubt (Brevo could not be asked just now); ``False``
        when they are out of attempts (the caller decides)."""
        now = self._clock()
        decision = self._decide(ids, error, now)
        if decision.action != "retry" or decision.at is None:
            return False
        at = decision.at
        with transaction(self._engine) as conn:
            for part in slices(ids):
                outbox.retry(conn, part, owner=self._owner, at=at, error=str(error), now=now,
                             in_doubt=True)  # fmt: skip
        self._report.retried += len(ids)
        return True

    def hold_in_doubt(self, ids: Sequence[int], reason: str) -> None:
        """Dead-letter rows that stay in doubt (``delivery.in_doubt: hold``) until ``retry``."""
        if not ids:
            return
        now = self._clock()
        with transaction(self._engine) as conn:
            held = sum(
                outbox.bury(conn, part, owner=self._owner, error=reason, now=now, in_doubt=True)
                for part in slices(ids)
            )
        self._report.dead += held
        self._report.held_in_doubt += held
        log.warning("delivery_held_in_doubt", rows=held, reason=reason[:200])

    def complete(self, ids: Sequence[int]) -> None:
        """Mark rows sent."""
        if ids:
            now = self._clock()
            with transaction(self._engine) as conn:
                complete_rows(conn, ids, owner=self._owner, now=now)
            self.delivered(ids, now)

    def commit_sent(self, ledger_keys: Iterable[str], ids: Sequence[int]) -> None:
        """Record effects in the ledger and complete their rows, in one transaction."""
        now = self._clock()
        with transaction(self._engine) as conn:
            ledger.record_all(conn, ledger_keys, now=now)
            complete_rows(conn, ids, owner=self._owner, now=now)
        self.delivered(ids, now)

    def delivered(self, ids: Sequence[int], now: datetime) -> None:
        """Tell the observer how long each of these rows waited before Brevo accepted it."""
        for row in filter(None, map(self._rows.get, ids)):
            self._observer.on_delivered(row.kind, (now - row.created_at).total_seconds())

    def bury(self, ids: Sequence[int], reason: str, *, rejected: bool = True) -> None:
        """Dead-letter rows at once with ``reason`` (shown by ``status``)."""
        if not ids:
            return
        now = self._clock()
        with transaction(self._engine) as conn:
            buried = sum(
                outbox.bury(conn, part, owner=self._owner, error=reason, now=now)
                for part in slices(ids)
            )
        self._report.dead += buried
        if rejected:
            self._report.rejected += buried
        log.warning("delivery_dead_lettered", rows=buried, reason=reason[:200])

    def release(self, ids: Sequence[int], at: datetime) -> None:
        """Give rows back untried, due at ``at``, without using an attempt."""
        if ids:
            now = self._clock()
            with transaction(self._engine) as conn:
                for part in slices(ids):
                    outbox.release(conn, part, owner=self._owner, at=at, now=now)

    def release_all(self) -> None:
        """Give back every row of the batch still held (stopping: nothing more is tried)."""
        self.release(list(self._rows), self._clock())

    def _decide(self, ids: Sequence[int], error: ApiError, now: datetime) -> Decision:
        """The one retry decision for rows that failed together: the most attempts any used,
        against the smallest budget."""
        attempts = max((self._rows[i].attempts for i in ids), default=0)
        limit = min([self._max_attempts, *(self._rows[i].max_attempts for i in ids)])
        return decide(error, attempts=attempts, max_attempts=limit, policy=self._policy, now=now)

    def fail(self, ids: Sequence[int], error: ApiError) -> datetime | None:
        """Retry or bury rows after ``error``; the retry time, if retried.

        Raises ``error`` again after giving the whole batch back when it says to stop
        (credentials refused): no attempt is used and nothing else is tried.
        """
        now = self._clock()
        decision = self._decide(ids, error, now)
        if decision.action == "stop":
            self.release_all()
            raise error
        # No answer (status 0): a send may have reached Brevo; its rows stay in doubt.
        unanswered = error.status == 0 and self.in_doubt_since(ids) is not None
        if decision.action == "bury" or decision.at is None:
            if unanswered:
                self.hold_in_doubt(ids, f"in doubt (no answer from Brevo): {error}")
                return None
            self.bury(ids, str(error), rejected=not isinstance(error, RetriableApiError))
            return None
        with transaction(self._engine) as conn:
            for part in slices(ids):
                outbox.retry(
                    conn, part, owner=self._owner, at=decision.at, error=str(error), now=now,
                    in_doubt=unanswered,
                )  # fmt: skip
        self._report.retried += len(ids)
        return decision.at


def complete_rows(conn: Connection, ids: Sequence[int], *, owner: str, now: datetime) -> int:
    """Mark ``owner``'s rows done in the caller's transaction; return how many were held."""
    return sum(outbox.complete(conn, part, owner=owner, now=now) for part in slices(ids))


@dataclass(frozen=True, slots=True)
class SendDeps:
    """What the senders of one claimed batch share: the store, Brevo, the batch's settler
    and report, the lease owner and the clock."""

    engine: Engine
    brevo: BrevoClient
    settler: Settler
    report: DeliveryReport
    owner: str
    clock: Callable[[], datetime]
