"""Follow Brevo contact imports to their end and keep the rows Brevo refused.

An import answers 202 with a process id; the rows are applied later and bad ones (invalid
e-mails, duplicates) are dropped silently, listed only in CSV reports of the finished
process (reference brevo.md 2.5, 8.4). Each import started is saved as a cursor
``brevo_import:<process id>`` (so a restarted worker resumes checking it), with its
e-mails (every one counts as refused if the import fails, and ``status`` shows how many).

Process reads share Brevo's 100-calls-per-hour "other" budget, so they are rounds, not
one call per import: when any pending import is due, one ``GET /processes`` page (newest
first, 50 a page) answers for all of them, completed ones with their report URLs; a
process the listing does not reach is read alone with ``GET /processes/{id}``. Reads
follow a widening schedule. A round reads only the schedules of the cursors; an import's
e-mails are loaded when it must be rescheduled or has failed. The cursor is deleted in
the same transaction that stores the rejections, so two workers finishing one import
store them once.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.brevo.client import PROCESS_PAGE_MAX, BrevoClient
from zoom_brevo.brevo.models import Process
from zoom_brevo.delivery.decisions import CheckSchedule
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.errors import AuthError, FatalApiError, RetriableApiError
from zoom_brevo.store import cursors, facts
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.facts import Rejection
from zoom_brevo.store.schema import cursors as cursor_table

PREFIX = "brevo_import:"
# Pages of GET /processes one round may read; imports older than that are read one by one.
MAX_LIST_PAGES = 4
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PendingImport:
    """An import whose process has not been seen finished yet."""

    process_id: int
    emails: tuple[str, ...]
    checks: int
    next_check_at: datetime
    started_at: datetime

    @property
    def contacts(self) -> int:
        """How many contacts the import carries (the schedule's estimate of its length)."""
        return len(self.emails)

    def to_position(self) -> dict[str, Any]:
        """The cursor value."""
        return {
            "process_id": self.process_id,
            "emails": list(self.emails),
            "contacts": self.contacts,
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


@dataclass(frozen=True, slots=True)
class Due:
    """The schedule of a pending import: its cursor without the e-mails."""

    process_id: int
    checks: int
    next_check_at: datetime
    contacts: int = 0


def pending_imports(conn: Connection) -> list[PendingImport]:
    """Every import still being followed, oldest process first (e-mails included)."""
    found = [
        PendingImport.from_position(position)
        for position, _saved in cursors.all_positions(conn, PREFIX).values()
    ]
    return sorted(found, key=lambda item: item.process_id)


def import_schedules(conn: Connection) -> list[Due]:
    """Every import still being followed, oldest process first, without loading e-mails."""
    position = cursor_table.c.position
    stmt = sa.select(
        position["process_id"].as_integer(),
        position["checks"].as_integer(),
        position["next_check_at"].as_string(),
        position["contacts"].as_integer(),
    ).where(cursor_table.c.name.startswith(PREFIX, autoescape=True))
    found = [
        Due(
            int(process_id),
            int(checks or 0),
            datetime.fromisoformat(next_check_at),
            int(contacts or 0),
        )
        for process_id, checks, next_check_at, contacts in conn.execute(stmt)
    ]
    return sorted(found, key=lambda item: item.process_id)


def failed_import_rejections(process: Process, emails: Sequence[str]) -> list[Rejection]:
    """A failed or cancelled import applied none of its rows: each one counts as refused."""
    reason = f"import {process.status}"
    return [Rejection(process.id, email, reason) for email in emails]


def _hash(email: str) -> int:
    return hash(email)


class Holds:
    """Which e-mails wait for which of this worker's pending imports, and until when.

    Kept as sorted 64-bit hashes (8 bytes an address) rather than strings, so a sync of
    200,000 contacts does not keep every address alive until its imports are read. A hash
    collision can only hold an event back until an import is read, never let one through.
    """

    def __init__(self) -> None:
        self._by_process: dict[int, tuple[array[int], datetime]] = {}

    def __bool__(self) -> bool:
        return bool(self._by_process)

    def add(self, process_ids: Iterable[int], emails: Iterable[str], until: datetime) -> None:
        """``emails`` wait for ``process_ids`` until ``until`` (their next read)."""
        hashes = array("q", sorted({_hash(email) for email in emails}))
        for process_id in process_ids:
            self._by_process[process_id] = (hashes, until)

    def move(self, process_id: int, until: datetime) -> None:
        """The import's next read is now ``until``."""
        known = self._by_process.get(process_id)
        if known is not None:
            self._by_process[process_id] = (known[0], until)

    def drop(self, process_id: int) -> None:
        """The import is finished (or followed no more)."""
        self._by_process.pop(process_id, None)

    def keep_only(self, process_ids: Collection[int]) -> None:
        """Forget imports no longer pending in the store (another worker finished them)."""
        for process_id in [p for p in self._by_process if p not in process_ids]:
            del self._by_process[process_id]

    def until(self, email: str) -> datetime | None:
        """When the latest pending import holding ``email`` is read next, if any."""
        wanted = _hash(email)
        found = [
            until
            for hashes, until in self._by_process.values()
            if (i := bisect_left(hashes, wanted)) < len(hashes) and hashes[i] == wanted
        ]
        return max(found, default=None)


@dataclass(eq=False)
class ImportTracker:
    """Registers imports as they start and reads their processes when due."""

    engine: Engine
    brevo: BrevoClient
    clock: Callable[[], datetime] = field(kw_only=True)
    schedule: CheckSchedule = field(kw_only=True)
    _holds: Holds = field(default_factory=Holds, init=False)

    def register(
        self, conn: Connection, process_ids: Sequence[int], emails: Sequence[str], now: datetime
    ) -> None:
        """Follow ``process_ids`` (in the caller's transaction, beside the outbox update)."""
        first = now + timedelta(seconds=self.schedule.first_s(len(emails)))
        for process_id in process_ids:
            item = PendingImport(process_id, tuple(emails), 0, first, now)
            cursors.save(conn, f"{PREFIX}{process_id}", item.to_position(), now=now)
        self._holds.add(process_ids, emails, first)

    def wait_until(self, email: str) -> datetime | None:
        """When an import this worker started for ``email`` will next be checked, if pending."""
        return self._holds.until(email)

    @property
    def waiting(self) -> bool:
        """Whether an import this worker started is still pending (as far as it knows)."""
        return bool(self._holds)

    def next_check_at(self) -> datetime | None:
        """The earliest scheduled check of any pending import."""
        with reading(self.engine) as conn:
            items = import_schedules(conn)
        self._holds.keep_only({item.process_id for item in items})
        return min((item.next_check_at for item in items), default=None)

    async def check_due(self, report: DeliveryReport) -> None:
        """When a pending import is due, read them all; store rejections of finished ones."""
        with reading(self.engine) as conn:
            items = import_schedules(conn)
        self._holds.keep_only({item.process_id for item in items})
        now = self.clock()
        if any(item.next_check_at <= now for item in items):
            await self._round(items, now, report)

    async def _round(self, items: Sequence[Due], now: datetime, report: DeliveryReport) -> None:
        listed, complete = await self._listing(items, report)
        for item in items:
            process = listed.get(item.process_id)
            if process is not None and process.done:
                await self._settle(item, process, report)
            elif item.next_check_at > now:
                continue
            elif process is None and complete:
                await self._check(item, report)  # older than the pages read
            else:
                self._not_done(item, report)  # still running, or the listing failed

    async def _listing(
        self, items: Sequence[Due], report: DeliveryReport
    ) -> tuple[Mapping[int, Process], bool]:
        """The pending processes the newest pages list, and whether the listing worked.

        Process ids grow with creation, so paging stops once a page reaches the oldest
        pending import, lists everything, or ends. A refused listing (4xx) counts as
        worked but empty: each due process is then read alone.
        """
        wanted = {item.process_id for item in items}
        oldest = min(wanted)
        found: dict[int, Process] = {}
        for page in range(MAX_LIST_PAGES):
            report.brevo_calls += 1
            try:
                processes = await self.brevo.list_processes(offset=page * PROCESS_PAGE_MAX)
            except AuthError:
                raise
            except RetriableApiError as exc:
                log.warning("brevo_import_listing_failed", error=str(exc))
                return found, False
            except FatalApiError as exc:
                log.warning("brevo_import_listing_refused", error=str(exc))
                return found, True
            found.update((p.id, p) for p in processes if p.id in wanted)
            ends = len(processes) < PROCESS_PAGE_MAX
            if ends or wanted <= found.keys() or min(p.id for p in processes) <= oldest:
                break
        return found, True

    async def _check(self, item: Due, report: DeliveryReport) -> None:
        report.brevo_calls += 1
        try:
            process = await self.brevo.get_process(item.process_id)
        except AuthError:
            raise
        except RetriableApiError as exc:
            log.warning("brevo_import_check_failed", process_id=item.process_id, error=str(exc))
        except FatalApiError as exc:  # unknown process: nothing more will be learned
            log.warning("brevo_import_lost", process_id=item.process_id, error=str(exc))
            self._finish(item.process_id, [], report)
            return
        else:
            if process.done:
                await self._settle(item, process, report)
                return
        self._not_done(item, report)

    async def _settle(self, item: Due, process: Process, report: DeliveryReport) -> None:
        if process.status == "completed":
            rows = await self.brevo.get_import_rejections(process)
            rejected = [Rejection(process.id, row.email or "", row.reason) for row in rows]
        else:
            rejected = failed_import_rejections(process, self._emails(item.process_id))
        self._finish(item.process_id, rejected, report)

    def _not_done(self, item: Due, report: DeliveryReport) -> None:
        if item.checks + 1 >= self.schedule.max_checks:
            log.error("brevo_import_given_up", process_id=item.process_id, checks=item.checks + 1)
            self._finish(item.process_id, [], report)
            return
        self._reschedule(item)

    def _emails(self, process_id: int) -> tuple[str, ...]:
        with reading(self.engine) as conn:
            position = cursors.get(conn, f"{PREFIX}{process_id}")
        return PendingImport.from_position(position).emails if position else ()

    def _finish(self, process_id: int, rejected: list[Rejection], report: DeliveryReport) -> None:
        with transaction(self.engine) as conn:
            mine = cursors.delete(conn, f"{PREFIX}{process_id}")
            if mine:
                facts.add_rejections(conn, rejected, now=self.clock())
        if mine:
            report.imports_completed += 1
            report.import_rejections += len(rejected)
        self._holds.drop(process_id)

    def _reschedule(self, item: Due) -> None:
        now = self.clock()
        later = now + timedelta(seconds=self.schedule.delay_s(item.checks + 1, item.contacts))
        name = f"{PREFIX}{item.process_id}"
        with transaction(self.engine) as conn:
            position = cursors.get(conn, name)
            if position is None:  # finished by another worker meanwhile
                self._holds.drop(item.process_id)
                return
            current = PendingImport.from_position(position)
            updated = replace(current, checks=item.checks + 1, next_check_at=later)
            cursors.save(conn, name, updated.to_position(), now=now)
        self._holds.move(item.process_id, later)
