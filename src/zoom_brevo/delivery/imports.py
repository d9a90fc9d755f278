"""Follow Brevo contact imports to their end and keep the rows Brevo refused.

An import answers 202 with a process id; the rows are applied later and bad ones (invalid
e-mails, duplicates) are dropped silently, listed only in CSV reports of the finished
process (reference brevo.md 2.5, 8.4). Each import started is saved as a cursor
``brevo_import:<process id>`` (so a restarted worker resumes checking it) and read with
``GET /processes/{id}`` on a widening schedule, since that endpoint shares Brevo's
100-calls-per-hour "other" budget. The cursor is deleted in the same transaction that
stores the rejections, so two workers finishing one import store them once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.models import Process
from zoom_brevo.delivery.decisions import CheckSchedule
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.errors import AuthError, FatalApiError, RetriableApiError
from zoom_brevo.store import cursors, facts
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.facts import Rejection

PREFIX = "brevo_import:"
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PendingImport:
    """An import whose process has not been seen finished yet."""

    process_id: int
    emails: tuple[str, ...]
    checks: int
    next_check_at: datetime
    started_at: datetime

    def to_position(self) -> dict[str, Any]:
        """The cursor value."""
        return {
            "process_id": self.process_id,
            "emails": list(self.emails),
            "checks": self.checks,
            "next_check_at": self.next_check_at.isoformat(),
            "started_at": self.started_at.isoformat(),
        }

    @classmethod
    def from_position(cls, position: dict[str, Any]) -> PendingImport:
        """Read a cursor value back."""
        return cls(
            process_id=int(position["process_id"]),
            emails=tuple(position.get("emails", ())),
            checks=int(position.get("checks", 0)),
            next_check_at=datetime.fromisoformat(position["next_check_at"]),
            started_at=datetime.fromisoformat(position["started_at"]),
        )


def pending_imports(conn: Connection) -> list[PendingImport]:
    """Every import still being followed, oldest process first."""
    found = [
        PendingImport.from_position(position)
        for position, _saved in cursors.all_positions(conn, PREFIX).values()
    ]
    return sorted(found, key=lambda item: item.process_id)


def failed_import_rejections(process: Process, emails: Sequence[str]) -> list[Rejection]:
    """A failed or cancelled import applied none of its rows: each one counts as refused."""
    reason = f"import {process.status}"
    return [Rejection(process.id, email, reason) for email in emails]


class ImportTracker:
    """Registers imports as they start and reads their processes when due."""

    def __init__(
        self,
        engine: Engine,
        brevo: BrevoClient,
        *,
        clock: Callable[[], datetime],
        schedule: CheckSchedule,
    ) -> None:
        self._engine = engine
        self._brevo = brevo
        self._clock = clock
        self._schedule = schedule
        self._ready_at: dict[str, datetime] = {}  # e-mail -> next check of its import

    def register(
        self, conn: Connection, process_ids: Sequence[int], emails: Sequence[str], now: datetime
    ) -> None:
        """Follow ``process_ids`` (in the caller's transaction, beside the outbox update)."""
        first = now + timedelta(seconds=self._schedule.delay_s(0))
        for process_id in process_ids:
            item = PendingImport(process_id, tuple(emails), 0, first, now)
            cursors.save(conn, f"{PREFIX}{process_id}", item.to_position(), now=now)
        self._ready_at.update(dict.fromkeys(emails, first))

    def wait_until(self, email: str) -> datetime | None:
        """When an import this worker started for ``email`` will next be checked, if pending."""
        return self._ready_at.get(email)

    def next_check_at(self) -> datetime | None:
        """The earliest scheduled check of any pending import."""
        with reading(self._engine) as conn:
            items = pending_imports(conn)
        return min((item.next_check_at for item in items), default=None)

    async def check_due(self, report: DeliveryReport) -> None:
        """Read every pending import whose check is due; store rejections of finished ones."""
        with reading(self._engine) as conn:
            items = pending_imports(conn)
        now = self._clock()
        for item in items:
            if item.next_check_at <= now:
                await self._check(item, report)

    async def _check(self, item: PendingImport, report: DeliveryReport) -> None:
        report.brevo_calls += 1
        try:
            process = await self._brevo.get_process(item.process_id)
            if process.done:
                self._finish(item, await self._rejections(process, item), report)
                return
        except AuthError:
            raise
        except RetriableApiError as exc:
            log.warning("brevo_import_check_failed", process_id=item.process_id, error=str(exc))
        except FatalApiError as exc:  # unknown process: nothing more will be learned
            log.warning("brevo_import_lost", process_id=item.process_id, error=str(exc))
            self._finish(item, [], report)
            return
        if item.checks + 1 >= self._schedule.max_checks:
            log.error("brevo_import_given_up", process_id=item.process_id, checks=item.checks + 1)
            self._finish(item, [], report)
            return
        self._reschedule(item)

    async def _rejections(self, process: Process, item: PendingImport) -> list[Rejection]:
        if process.status != "completed":
            return failed_import_rejections(process, item.emails)
        rows = await self._brevo.get_import_rejections(process)
        return [Rejection(process.id, row.email or "", row.reason) for row in rows]

    def _finish(
        self, item: PendingImport, rejected: list[Rejection], report: DeliveryReport
    ) -> None:
        with transaction(self._engine) as conn:
            mine = cursors.delete(conn, f"{PREFIX}{item.process_id}")
            if mine:
                facts.add_rejections(conn, rejected, now=self._clock())
        if mine:
            report.imports_completed += 1
            report.import_rejections += len(rejected)
        for email in item.emails:
            self._ready_at.pop(email, None)

    def _reschedule(self, item: PendingImport) -> None:
        now = self._clock()
        later = now + timedelta(seconds=self._schedule.delay_s(item.checks + 1))
        updated = PendingImport(
            item.process_id, item.emails, item.checks + 1, later, item.started_at
        )
        with transaction(self._engine) as conn:
            cursors.save(conn, f"{PREFIX}{item.process_id}", updated.to_position(), now=now)
        for email in item.emails:
            self._ready_at[email] = later
