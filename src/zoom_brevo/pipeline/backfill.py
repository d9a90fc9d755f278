"""``backfill``: find every past meeting and webinar instance in a date range and sync each.

The walk, in a fixed order so that it can resume:

1. users of the account (``GET /users``, active ones);
2. per user, **units** of work: one per month window of the user meeting report
   (``GET /report/users/{userId}/meetings``, meetings only), then ``recurring`` (older
   instances of the user's recurring meetings, ``/past_meetings/{id}/instances``, for the
   dates the 6-month report cannot reach), then ``webinars`` (``/users/{userId}/webinars``
   -> ``/past_webinars/{id}/instances``); see ``windows.plan_range`` for the limits;
3. per unit, the instances sorted by (start time, uuid), each handed to ``sync``.

The units never overlap (the report gives meetings inside 6 months, ``recurring`` only
older ones, webinars come only from ``webinars``), so an instance is synced once.

**Resuming**: after each instance, a cursor (``store.cursors``, name ``backfill``) records
the users finished, the current user's finished units and the last instance finished in
the current unit. A run with the same ``--from`` (and ``--to``, or none) continues after
it; a finished walk deletes the cursor. An instance whose sync committed just before a
crash, with the cursor not yet saved, is synced again: sync is idempotent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, Protocol, TypeVar

import structlog
from sqlalchemy.engine import Engine

from zoom_brevo.errors import NotFound, PayloadRejected
from zoom_brevo.pipeline.windows import BackfillRange, Window
from zoom_brevo.store import cursors
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.zoom.client import ZoomClient
from zoom_brevo.zoom.models import PastInstance

log = structlog.get_logger(__name__)
T = TypeVar("T")

Kind = Literal["meeting", "webinar"]
CURSOR_NAME = "backfill"
RECURRING_TYPES = frozenset({3, 8})  # recurring meeting, no fixed time / fixed time
WEBINAR_TYPES = frozenset({5, 6, 9})


@dataclass(frozen=True, slots=True)
class Found:
    """A past instance the walk will sync."""

    kind: Kind
    uuid: str
    meeting_id: int | None
    topic: str
    start_time: datetime | None

    @property
    def sort_key(self) -> list[str]:
        """Order within a unit (and the cursor's record of the last one finished)."""
        start = self.start_time.astimezone(UTC).isoformat() if self.start_time else ""
        return [start, self.uuid]


SyncInstance = Callable[[Found], Awaitable[object]]


class Progress(Protocol):
    """Where the walk reports how far it got (Rich bars in the CLI)."""

    def add_users(self, count: int) -> None:
        """``count`` more users to walk."""

    def add_units(self, count: int) -> None:
        """``count`` more windows/units to walk."""

    def add_instances(self, count: int) -> None:
        """``count`` more instances found."""

    def advance(self, what: Literal["users", "units", "instances"]) -> None:
        """One more user, unit or instance done (or skipped on resume)."""


class NoProgress:
    """A ``Progress`` that shows nothing."""

    def add_users(self, count: int) -> None:
        """Ignore."""

    def add_units(self, count: int) -> None:
        """Ignore."""

    def add_instances(self, count: int) -> None:
        """Ignore."""

    def advance(self, what: Literal["users", "units", "instances"]) -> None:
        """Ignore."""


# -- the cursor -------------------------------------------------------------------------


@dataclass
class Position:
    """How far a walk got (stored as JSON in the cursor)."""

    start: str
    end: str
    users_done: list[str] = field(default_factory=list)
    user: str | None = None
    units_done: list[str] = field(default_factory=list)
    last: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``store.cursors``."""
        return {
            "from": self.start,
            "to": self.end,
            "users_done": self.users_done,
            "user": self.user,
            "units_done": self.units_done,
            "last": self.last,
        }

    @classmethod
    def from_json(cls, data: Any) -> Position | None:
        """The position saved, or ``None`` when ``data`` is not one."""
        if not isinstance(data, dict) or not {"from", "to"} <= data.keys():
            return None
        return cls(
            start=str(data["from"]),
            end=str(data["to"]),
            users_done=list(data.get("users_done") or []),
            user=data.get("user"),
            units_done=list(data.get("units_done") or []),
            last=data.get("last"),
        )


def resume_position(saved: Position | None, start: date, end: date | None) -> Position | None:
    """``saved`` when it belongs to a backfill of the same range (``end=None``: any end)."""
    if saved is None or saved.start != start.isoformat():
        return None
    if end is not None and saved.end != end.isoformat():
        return None
    return saved


class CursorStore(Protocol):
    """Where the position is kept."""

    def load(self) -> Position | None:
        """The saved position."""

    def save(self, position: Position) -> None:
        """Replace the saved position."""

    def clear(self) -> None:
        """Forget the position (the walk finished)."""


@dataclass
class StoreCursor:
    """The position in the store's ``cursors`` table."""

    engine: Engine
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    name: str = CURSOR_NAME

    def load(self) -> Position | None:
        """The saved position."""
        with reading(self.engine) as conn:
            return Position.from_json(cursors.get(conn, self.name))

    def save(self, position: Position) -> None:
        """Replace the saved position."""
        with transaction(self.engine) as conn:
            cursors.save(conn, self.name, position.to_json(), now=self.clock())

    def clear(self) -> None:
        """Forget the position."""
        with transaction(self.engine) as conn:
            cursors.delete(conn, self.name)


@dataclass
class ReadOnlyCursor:
    """A dry run's view: reads a saved position (if any), never writes."""

    saved: Position | None = None

    def load(self) -> Position | None:
        """The position given at construction."""
        return self.saved

    def save(self, position: Position) -> None:
        """Do nothing."""

    def clear(self) -> None:
        """Do nothing."""


# -- discovery --------------------------------------------------------------------------


def units_for(span: BackfillRange, *, webinars: bool) -> list[str]:
    """A user's units of work, in walking order."""
    units = [f"report:{w.start.isoformat()}:{w.end.isoformat()}" for w in span.report_windows]
    if span.older_than_report is not None:
        units.append("recurring")
    if webinars and span.instances is not None:
        units.append("webinars")
    return units


async def _collect(items: AsyncIterator[Found]) -> list[Found]:
    unique = {found.uuid: found async for found in items}
    return sorted(unique.values(), key=lambda f: f.sort_key)


async def _report(zoom: ZoomClient, user_id: str, window: Window) -> AsyncIterator[Found]:
    async for row in zoom.user_meeting_report(user_id, from_=window.start, to=window.end):
        if row.uuid and row.type not in WEBINAR_TYPES:
            yield Found("meeting", row.uuid, row.id, row.topic, row.start_time)


def _within(instance: PastInstance, window: Window) -> bool:
    start = instance.start_time
    return start is not None and start.astimezone(UTC).date() in window


async def _recurring(zoom: ZoomClient, user_id: str, window: Window) -> AsyncIterator[Found]:
    async for meeting in zoom.user_meetings(user_id, type="scheduled"):
        if meeting.id is None or meeting.type not in RECURRING_TYPES:
            continue
        async for inst in _instances_or_none(zoom.past_meeting_instances(meeting.id)):
            if _within(inst, window):
                yield Found("meeting", inst.uuid, meeting.id, meeting.topic, inst.start_time)


async def _webinars(zoom: ZoomClient, user_id: str, window: Window) -> AsyncIterator[Found]:
    async for webinar in _instances_or_none(zoom.user_webinars(user_id)):
        if webinar.id is None:
            continue
        async for inst in _instances_or_none(zoom.past_webinar_instances(webinar.id)):
            if _within(inst, window):
                yield Found("webinar", inst.uuid, webinar.id, webinar.topic, inst.start_time)


def recent(
    zoom: ZoomClient, user_id: str, window: Window, *, webinars: bool
) -> AsyncIterator[Found]:
    """A user's meeting instances (usage report) and, if ``webinars``, webinar instances that
    started within ``window`` (unsorted; a webinar may also appear in the report).
    """

    async def both() -> AsyncIterator[Found]:
        async for found in _report(zoom, user_id, window):
            yield found
        if webinars:
            async for found in _webinars(zoom, user_id, window):
                yield found

    return both()


async def _instances_or_none(items: AsyncIterator[T]) -> AsyncIterator[T]:
    # Zoom answers 404/3001 for a meeting with no ended instance left, and 400/200 for an
    # account without the webinar add-on (reference zoom.md 2.2): nothing to collect.
    try:
        async for item in items:
            yield item
    except (NotFound, PayloadRejected) as exc:
        log.info("backfill_listing_skipped", reason=str(exc))


def discover(
    zoom: ZoomClient, user_id: str, unit: str, span: BackfillRange
) -> AsyncIterator[Found]:
    """The instances of one unit of one user (unsorted)."""
    if unit.startswith("report:"):
        _, start, end = unit.split(":")
        return _report(zoom, user_id, Window(date.fromisoformat(start), date.fromisoformat(end)))
    if unit == "recurring":
        assert span.older_than_report is not None
        return _recurring(zoom, user_id, span.older_than_report)
    assert span.instances is not None
    return _webinars(zoom, user_id, span.instances)


# -- the walk ---------------------------------------------------------------------------


@dataclass
class BackfillReport:
    """What a walk did."""

    users: int = 0
    units: int = 0
    found: int = 0
    synced: int = 0
    resumed_past: int = 0
    unavailable: list[str] = field(default_factory=list)
    resumed: bool = False
    warnings: tuple[str, ...] = ()


@dataclass
class Backfill:
    """One walk over ``span``; ``sync`` is called once per instance not yet done."""

    zoom: ZoomClient
    span: BackfillRange
    sync: SyncInstance
    cursor: CursorStore
    progress: Progress = field(default_factory=NoProgress)
    webinars: bool = True
    requested_end: date | None = None
    report: BackfillReport = field(default_factory=BackfillReport)

    async def run(self) -> BackfillReport:
        """Walk every user, unit and instance; resume from the cursor when it matches."""
        position = self._start_position()
        self.report.warnings = self.span.warnings
        users = [u.id async for u in self.zoom.users() if u.id]
        units = units_for(self.span, webinars=self.webinars)
        self.progress.add_users(len(users))
        self.progress.add_units(len(users) * len(units))
        for user_id in users:
            await self._walk_user(user_id, units, position)
        self.cursor.clear()
        return self.report

    def _start_position(self) -> Position:
        span = self.span.requested
        saved = resume_position(self.cursor.load(), span.start, self.requested_end)
        self.report.resumed = saved is not None
        return saved or Position(start=span.start.isoformat(), end=span.end.isoformat())

    async def _walk_user(self, user_id: str, units: list[str], position: Position) -> None:
        if user_id in position.users_done:
            self.progress.advance("users")
            for _ in units:
                self.progress.advance("units")
            return
        if position.user != user_id:
            position.user, position.units_done, position.last = user_id, [], None
        for unit in units:
            if unit not in position.units_done:
                await self._walk_unit(user_id, unit, position)
            self.progress.advance("units")
            self.report.units += 1
        position.users_done.append(user_id)
        position.user, position.units_done, position.last = None, [], None
        self.cursor.save(position)
        self.progress.advance("users")
        self.report.users += 1

    async def _walk_unit(self, user_id: str, unit: str, position: Position) -> None:
        found = await _collect(discover(self.zoom, user_id, unit, self.span))
        self.progress.add_instances(len(found))
        self.report.found += len(found)
        for instance in found:
            if position.last is not None and instance.sort_key <= position.last:
                self.report.resumed_past += 1
            else:
                await self._sync_one(instance)
                position.last = instance.sort_key
                self.cursor.save(position)
            self.progress.advance("instances")
        position.units_done.append(unit)
        position.last = None
        self.cursor.save(position)

    async def _sync_one(self, instance: Found) -> None:
        try:
            await self.sync(instance)
        except NotFound as exc:
            # Past Zoom's retention (12702/3001): nothing left to collect; go on.
            log.warning("backfill_instance_unavailable", reason=str(exc))
            self.report.unavailable.append(instance.uuid)
            return
        self.report.synced += 1
