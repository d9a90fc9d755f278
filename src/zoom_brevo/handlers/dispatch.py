"""Stored webhooks -> handlers: event name to handler, all or nothing per inbox row.

``InboxProcessor.process_batch`` handles the oldest pending rows in groups of ``GROUP``
rows, one transaction per group (one commit, not one per webhook: on PostgreSQL a commit
waits for the WAL flush). The group's first statement claims its rows (``pending`` ->
``processed``, skipping rows another worker holds: two workers never both handle one, and
never queue on each other's rows). Each row is then handled in a savepoint that writes the
handler's facts, commands and jobs; a row whose handler raises is rolled back to its
savepoint and set pending again, the others are committed together. A group whose
transaction fails as a whole (a lost connection, a deadlock with another worker) is
handled again row by row, one transaction each, so that no row can hold back the others.

- Unknown events are marked ``ignored`` (stored, never an error).
- An error rolls the row's transaction back; the one retry decision (``retrying.decide``)
  says what next. A payload that does not validate can never succeed: the row is marked
  ``failed`` with the reason at once. Any other error is counted in the row
  (``inbox.attempts``) and the row stays pending until its ``retry_at`` (``retry_policy``:
  the next pass by default); after ``max_attempts`` failed tries, counted across every
  process and restart, it is marked ``failed`` with the error (a poison row must not be
  retried for ever). Other rows go on meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Connection, Engine

from zoom_brevo import retrying
from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.handlers import lifecycle, participants, recordings, registrations
from zoom_brevo.handlers.context import Context, HandlerOptions
from zoom_brevo.handlers.deauthorization import handle_deauthorized
from zoom_brevo.store import inbox
from zoom_brevo.store.engine import transaction
from zoom_brevo.zoom.webhook_models import (
    Deauthorization,
    Envelope,
    MeetingObject,
    ParticipantObject,
    RecordingObject,
    RegistrationObject,
    parse_body,
)

log = structlog.get_logger(__name__)
DEFAULT_MAX_ATTEMPTS = 3
# A handler's error is a bug or a database hiccup, not a vendor's limit: the next pass may
# try the row again at once; the stored count still bounds the tries.
NEXT_PASS = BackoffPolicy(base_s=0.0, cap_s=0.0)
DEFAULT_BATCH = 100
GROUP = 25
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Route:
    """How to parse one event and which handler takes it."""

    model: type[BaseModel]
    handler: Callable[[Context, Any], None]


_MEETING_EVENTS: dict[str, Route] = {}
for _kind in ("meeting", "webinar"):
    _MEETING_EVENTS |= {
        f"{_kind}.started": Route(Envelope[MeetingObject], lifecycle.handle_started),
        f"{_kind}.ended": Route(Envelope[MeetingObject], lifecycle.handle_ended),
        f"{_kind}.participant_joined": Route(
            Envelope[ParticipantObject], participants.handle_joined
        ),
        f"{_kind}.participant_left": Route(Envelope[ParticipantObject], participants.handle_left),
    }
    for _action in ("created", "approved", "cancelled", "denied"):
        _MEETING_EVENTS[f"{_kind}.registration_{_action}"] = Route(
            Envelope[RegistrationObject], registrations.handle_registration
        )

ROUTES: dict[str, Route] = {
    **_MEETING_EVENTS,
    "recording.completed": Route(Envelope[RecordingObject], recordings.handle_completed),
    "app_deauthorized": Route(Deauthorization, handle_deauthorized),
}


def handled_events() -> frozenset[str]:
    """Every event name with a handler."""
    return frozenset(ROUTES)


@dataclass
class Outcome:
    """How one pass went (counts only)."""

    processed: int = 0
    ignored: int = 0
    failed: int = 0
    deferred: int = 0

    @property
    def handled(self) -> int:
        """Rows whose state changed."""
        return self.processed + self.ignored + self.failed


@dataclass
class InboxProcessor:
    """Runs the handlers over pending inbox rows."""

    engine: Engine
    options: HandlerOptions
    clock: Callable[[], datetime]
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    batch_size: int = DEFAULT_BATCH
    retry_policy: BackoffPolicy = NEXT_PASS

    def process_batch(self) -> Outcome:
        """Handle up to ``batch_size`` pending rows, oldest first, ``GROUP`` at a time.

        Each group claims its rows past the last one this pass claimed, so a row that
        failed is tried again by the next pass, not at once.
        """
        outcome = Outcome()
        after_id, left = 0, self.batch_size
        while left > 0:
            limit = min(GROUP, left)
            claimed = self._process_group(after_id, limit, outcome)
            if len(claimed) < limit:  # none left past the last one
                break
            after_id, left = claimed[-1].id, left - limit
        return outcome

    def process_all(self) -> Outcome:
        """Handle pending rows until none is left that this process may still try."""
        total = Outcome()
        while True:
            outcome = self.process_batch()
            for name in ("processed", "ignored", "failed", "deferred"):
                setattr(total, name, getattr(total, name) + getattr(outcome, name))
            if outcome.handled == 0:
                return total

    def _process_group(self, after_id: int, limit: int, outcome: Outcome) -> list[inbox.InboxEvent]:
        """Claim and handle up to ``limit`` rows in one transaction, a savepoint each; row by
        row if the transaction fails. The rows claimed."""
        now = self.clock()
        rows: list[inbox.InboxEvent] = []
        try:
            with transaction(self.engine) as conn:
                rows = inbox.take_group(conn, limit=limit, now=now, after_id=after_id)
                done = [(row, self._in_savepoint(conn, row, now)) for row in rows]
        except Exception as exc:  # noqa: BLE001 (the group's commit failed: nothing was kept)
            log.warning("inbox_group_failed", rows=len(rows), error_type=type(exc).__name__)
            for row in rows:
                self._process(row, outcome)
            return rows
        for row, result in done:
            self._count(row, result, outcome, now)
        return rows

    def _in_savepoint(
        self, conn: Connection, row: inbox.InboxEvent, now: datetime
    ) -> str | Exception | None:
        """The row's status, or the error that rolled its savepoint back (the row is then
        pending again, for a later pass)."""
        try:
            with conn.begin_nested():
                return self._handle(conn, row, now)
        except Exception as exc:  # noqa: BLE001 (counted per row by _count)
            inbox.mark(conn, row.id, "pending", now=now)
            return exc

    def _process(self, row: inbox.InboxEvent, outcome: Outcome) -> None:
        now = self.clock()
        try:
            with transaction(self.engine) as conn:
                result: str | Exception | None = self._handle_in(conn, row, now)
        except Exception as exc:  # noqa: BLE001 (counted by _count)
            result = exc
        self._count(row, result, outcome, now)

    def _count(
        self, row: inbox.InboxEvent, result: str | Exception | None, outcome: Outcome,
        now: datetime,
    ) -> None:  # fmt: skip
        """Record how ``row`` went: a status, or an error (failed, or tried again later)."""
        if isinstance(result, Exception):
            if self._failed(row, result, now):
                outcome.failed += 1
            else:
                outcome.deferred += 1
        elif result == "ignored":
            outcome.ignored += 1
        elif result == "processed":
            outcome.processed += 1

    def _failed(self, row: inbox.InboxEvent, error: Exception, now: datetime) -> bool:
        """Count the failed try in the row and settle it as the one decision says: ``True``
        when it is marked ``failed``, ``False`` when left pending for a later try."""
        with transaction(self.engine) as conn:
            tries = inbox.count_failure(conn, row.id)
            if tries is None:  # settled meanwhile by another worker
                return False
            verdict = retrying.decide(
                tries, error, now, backoff=self.retry_policy,
                max_attempts=self.max_attempts, fatal=(ValidationError,),
            )  # fmt: skip
            log.warning("inbox_event_error", event_id=row.id, event_type=row.event_type,
                        error_type=type(error).__name__, attempt=tries)  # fmt: skip
            if isinstance(verdict, retrying.RetryAt):
                inbox.retry_later(conn, row.id, at=verdict.when)
                return False
            inbox.fail_pending(conn, row.id, _reason(row, error)[:MAX_ERROR_CHARS], now=now)
        log.error("inbox_event_failed", event_id=row.id, event_type=row.event_type)
        return True

    def _handle_in(self, conn: Connection, row: inbox.InboxEvent, now: datetime) -> str | None:
        # Taken first: a row another worker has is skipped before any parsing.
        if not inbox.take(conn, row.id, now=now):
            return None
        return self._handle(conn, row, now)

    def _handle(self, conn: Connection, row: inbox.InboxEvent, now: datetime) -> str:
        """Run the row's handler on ``conn`` (the row is taken); its status."""
        body = parse_body(row.raw_body)
        route = ROUTES.get(str(body.get("event", row.event_type)))
        if route is None:
            inbox.mark(conn, row.id, "ignored", now=now)
            return "ignored"
        parsed = route.model.model_validate(body)
        route.handler(Context(conn, self.options, now), parsed)
        return "processed"


def _reason(row: inbox.InboxEvent, error: Exception) -> str:
    if isinstance(error, ValidationError):
        return f"payload does not match {row.event_type}: {_short(error)}"
    return f"{type(error).__name__}: {error}"


def _short(exc: ValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid"
    where = ".".join(str(p) for p in errors[0]["loc"])
    return f"{where}: {errors[0]['msg']}" if where else errors[0]["msg"]
