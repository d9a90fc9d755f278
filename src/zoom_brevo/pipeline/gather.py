"""Read one instance's people from the store, a bounded chunk at a time.

The people of an instance are the e-mail addresses in its final sessions plus the
approved registrants of its meeting or webinar, walked in e-mail order with keyset paging
(``email > :after LIMIT n``). For each chunk, three queries load the chunk's sessions in
every instance, their registrations and the instances involved, and build one
``derive.PersonInput`` per address. Memory is bounded by the chunk size, not by the size
of the meeting; the interval union runs per person in Python on that person's rows only.
A person's approved registrations to meetings or webinars with no collected instance yet
are passed as ``upcoming`` (``derive.Upcoming``), placed at the time they were made.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.engine import Connection

from zoom_brevo.engagement import Interval, Participation, SessionRow
from zoom_brevo.pipeline.derive import (
    InstanceInfo,
    InstanceRecord,
    Kind,
    PersonInput,
    Registration,
    Upcoming,
)
from zoom_brevo.pipeline.staging import STAGING
from zoom_brevo.store import ledger, outbox, roster

COLLECTED = ("collected", "reconciled")
_KINDS: Mapping[str, Kind] = {"meeting": "meeting", "webinar": "webinar"}


def people_of(conn: Connection, info: InstanceInfo, *, after: str, limit: int) -> list[str]:
    """The next ``limit`` e-mail addresses of the instance's people after ``after``."""
    return roster.people_page(
        conn, uuid=info.uuid, kind=info.kind, meeting_id=info.meeting_id, after=after, limit=limit
    )


@dataclass(frozen=True, slots=True)
class _Instance:
    uuid: str
    kind: str
    meeting_id: int
    span: Interval | None
    collected: bool
    occurrence_id: str | None = None


def load_people(
    conn: Connection,
    info: InstanceInfo,
    emails: Sequence[str],
    *,
    participation: Mapping[str, Participation] | None = None,
) -> list[PersonInput]:
    """``PersonInput`` for each address of ``emails`` (see the module docstring)."""
    sessions = _sessions(conn, emails)
    registrations = _registrations(conn, emails)
    registered_ids = {(k, m) for regs in registrations.values() for (k, m) in regs}
    uuids = {uuid for per in sessions.values() for uuid in per}
    instances = _instances(conn, uuids, {m for _, m in registered_ids})
    taken = participation or {}
    people = []
    for email in emails:
        person = _person(
            info, email, sessions.get(email, {}), registrations.get(email, {}), instances
        )
        if email in taken:
            person = replace(person, participation=taken[email])
        people.append(person)
    return people


def _person(
    info: InstanceInfo,
    email: str,
    sessions: Mapping[str, list[tuple[str | None, SessionRow]]],
    registrations: Mapping[tuple[str, int], Registration],
    instances: Mapping[str, _Instance],
) -> PersonInput:
    history = {
        uuid: _record(uuid, instances.get(uuid), tuple(r for _, r in rows), registrations)
        for uuid, rows in sessions.items()
    }
    for known in instances.values():
        if known.uuid not in history and known.collected and _registered(registrations, known):
            history[known.uuid] = _record(known.uuid, known, (), registrations)
    current = sessions.get(info.uuid, [])
    names = [name for name, _ in current if name]
    return PersonInput(
        email=email,
        display_name=names[0] if names else None,
        registration=registrations.get((info.kind, info.meeting_id)),
        history=tuple(history[u] for u in sorted(history)),
        upcoming=_upcoming(info, registrations, instances),
    )


def _upcoming(
    info: InstanceInfo,
    registrations: Mapping[tuple[str, int], Registration],
    instances: Mapping[str, _Instance],
) -> tuple[Upcoming, ...]:
    """Approved registrations, other than ``info``'s, whose meeting has no collected instance."""
    held = {(i.kind, i.meeting_id) for i in instances.values() if i.collected}
    found = []
    for (kind, meeting_id), reg in registrations.items():
        known_kind = _KINDS.get(kind)
        if known_kind is None or not reg.approved or reg.registered_at is None:
            continue
        if (kind, meeting_id) in held or (kind, meeting_id) == (info.kind, info.meeting_id):
            continue
        found.append(Upcoming(known_kind, reg.registered_at, reg.tracking_source))
    return tuple(sorted(found, key=lambda u: u.registered_at))


def _record(
    uuid: str,
    known: _Instance | None,
    sessions: tuple[SessionRow, ...],
    registrations: Mapping[tuple[str, int], Registration],
) -> InstanceRecord:
    if known is None:
        return InstanceRecord(uuid, None, sessions)
    found = registrations.get((known.kind, known.meeting_id))
    registered = found is not None and found.approved
    return InstanceRecord(
        uuid,
        known.span,
        sessions,
        registered,
        _KINDS.get(known.kind),
        found.tracking_source if found and registered else None,
        known.occurrence_id,
    )


def _registered(registrations: Mapping[tuple[str, int], Registration], inst: _Instance) -> bool:
    found = registrations.get((inst.kind, inst.meeting_id))
    return found is not None and found.approved


def _sessions(
    conn: Connection, emails: Sequence[str]
) -> dict[str, dict[str, list[tuple[str | None, SessionRow]]]]:
    """Per e-mail, per instance: the final rows where there are any, else provisional ones."""
    found: dict[tuple[str, str], dict[str, list[tuple[str | None, SessionRow]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in roster.sessions_of_people(conn, emails, except_source=STAGING):
        session = SessionRow(
            join_time=row.join_time, leave_time=row.leave_time, status=row.status, email=row.email
        )
        found[(row.email, row.instance_uuid)][row.source].append((row.name, session))
    result: dict[str, dict[str, list[tuple[str | None, SessionRow]]]] = defaultdict(dict)
    for (email, uuid), by_source in found.items():
        result[email][uuid] = by_source.get("final") or by_source.get("provisional", [])
    return result


def _registrations(
    conn: Connection, emails: Sequence[str]
) -> dict[str, dict[tuple[str, int], Registration]]:
    found: dict[str, dict[tuple[str, int], Registration]] = defaultdict(dict)
    for row in roster.registrations_of_people(conn, emails):
        found[row.email][(row.kind, row.meeting_id)] = Registration(
            status=row.status,
            first_name=row.first_name,
            last_name=row.last_name,
            tracking_source=row.tracking_source,
            join_url=row.join_url,
            registered_at=row.registered_at,
            answers=row.answers,
        )
    return found


def _instances(
    conn: Connection, uuids: Iterable[str], meeting_ids: Iterable[int]
) -> dict[str, _Instance]:
    return {
        row.uuid: _Instance(
            row.uuid,
            row.kind,
            row.meeting_id,
            _span(row.start_time, row.end_time),
            row.collect_state in COLLECTED,
            row.occurrence_id,
        )
        for row in roster.instances_involved(conn, uuids, meeting_ids)
    }


def _span(start: datetime | None, end: datetime | None) -> Interval | None:
    return Interval(start, end) if start is not None and end is not None else None


def effects_known(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Which event/e-mail ledger keys were sent already or are waiting in the outbox."""
    known = ledger.already_sent(conn, keys)
    pending = {f"event:{k}": k for k in keys if k not in known}
    known.update(pending[key] for key in outbox.in_flight_keys(conn, pending))
    return known


def guests_without_email(conn: Connection, uuid: str) -> int:
    """People of the instance's final sessions that Zoom gave no e-mail for."""
    return roster.guests_without_email(conn, uuid)


def chunks(conn: Connection, info: InstanceInfo, size: int) -> Iterator[list[str]]:
    """The instance's people, ``size`` addresses at a time."""
    after = ""
    while batch := people_of(conn, info, after=after, limit=size):
        yield batch
        after = batch[-1]
