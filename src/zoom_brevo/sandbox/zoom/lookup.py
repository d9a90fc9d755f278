"""Finding what a request names: users, meetings/webinars by number, instances by number
(latest) or UUID, with Zoom's availability rules (ended, report delay, one-year window)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from zoom_brevo.sandbox.scenario import Instance, Meeting, Scenario, User, Webinar
from zoom_brevo.sandbox.zoom.errors import ZoomError

MEETING, WEBINAR = "Meeting", "Webinar"


def _missing(kind: str, ident: str, *, report: bool) -> ZoomError:
    if report:
        return ZoomError(404, 3001, f"{kind} {ident} not found or has expired.")
    return ZoomError(404, 3001, f"{kind} does not exist: {ident}.")


@dataclass
class Finder:
    """Resolves ids against the scenario at the emulator's current time."""

    scenario: Scenario
    clock: Callable[[], float]
    report_delay_s: Callable[[], float]

    def now(self) -> datetime:
        """The emulator's current time."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def user(self, user_id: str) -> User:
        """A user by id or e-mail (``me`` is the first user)."""
        for u in self.scenario.users:
            if user_id in (u.id, "me") or u.email.lower() == user_id.lower():
                return u
        raise ZoomError(404, 1001, f"User does not exist: {user_id}.")

    def scheduled(self, ident: str, kind: str) -> Meeting | Webinar:
        """A meeting or webinar by its number."""
        found = self.scenario.find(int(ident)) if ident.isdigit() else None
        wanted = Meeting if kind == MEETING else Webinar
        if not isinstance(found, wanted):
            raise _missing(kind, ident, report=False)
        return found

    def instance(
        self, ident: str, kind: str | None, *, report: bool = False, ready: bool = True
    ) -> Instance:
        """An ended instance: number = latest started one, else by UUID; 3001 when not ready."""
        label = kind or MEETING
        inst = self._started_instance(ident, kind)
        if inst is None:
            raise _missing(label, ident, report=report)
        now = self.now()
        if ready and now < inst.end + timedelta(seconds=self.report_delay_s()):
            raise _missing(label, ident, report=report)
        return inst

    def _started_instance(self, ident: str, kind: str | None) -> Instance | None:
        now = self.now()
        if ident.isdigit():
            parent = self.scenario.find(int(ident))
            started = [i for i in parent.instances if i.start <= now] if parent else []
            inst = started[-1] if started else None
        else:
            inst = self.scenario.instance(ident)
        if inst is None or kind is None:
            return inst
        wanted = Meeting if kind == MEETING else Webinar
        return inst if isinstance(inst.parent, wanted) else None

    def within_a_year(self, inst: Instance) -> None:
        """12702 for instances that started more than a year ago."""
        if self.now() - inst.start > timedelta(days=365):
            raise ZoomError(400, 12702, "Can not access meeting a year ago.")
