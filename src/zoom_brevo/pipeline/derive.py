"""Facts of one person -> the Brevo commands for one meeting or webinar instance. Pure.

Input is what the store knows about one person (one lower-cased e-mail address; two
sign-ins that differ only in letter case are one person): their registration to the
meeting or webinar being synced, and their sessions in every instance they attended.
Output is one contact upsert (attributes and lists), the ``zoom_attended`` /
``zoom_absent`` event when due, and the person's engagement across meetings.

Rules:

- **Attended** means minutes > 0 in the instance (waiting-room time does not count).
- **Absent** means an approved registration and no minutes. Absences count in the
  engagement summary as ratio 0 for every collected instance of a meeting the person
  registered for (docs/engagement.md section 4).
- Someone who only sat in the waiting room and did not register produces nothing.
- Lists: ``meeting_participants`` (attended a meeting); ``webinar_registrants`` (every
  approved registrant), ``webinar_attendees`` (attended, registered or not),
  ``webinar_absentees`` (registered, did not attend).
- Events (ledger keys ``zoom_attended:<uuid>:<email>`` / ``zoom_absent:<uuid>:<email>``)
  are left out when ``events`` is off or their key is in ``already``: recorded in the
  ledger or already waiting in the outbox. So a second sync queues no event.
- ``attendance_status`` is ``attended`` or ``absent`` for meetings and webinars alike (the
  connector spec sets ``ATTENDANCE_STATUS: 'attended'`` for meeting participants too);
  ``registered`` comes from the registration webhooks (``handlers.registrations``).
- The contact's attributes come from ``mapping.map_person`` (names, formats, never-blank,
  excluded domains); a person it skips gets no command at all.
- **The latest instance owns the per-instance attributes**, whatever order instances are
  synced in (a backfill after a live sync, two workers, a re-run): the join date, minutes
  and ratio are left out when the person attended an instance that started later; the
  occurrence (``ZOOM_LAST_OCCURRENCE``) when a later one attended was an occurrence too; the
  attendance status when the person attended or registered for a later meeting or
  webinar (it is one attribute for both); the webinar title when that later one is a
  webinar; the registration source when a later registration has one; the registration
  form's answers when there is a later registration. A registration to a
  meeting or webinar that has no collected instance yet (an upcoming webinar) counts from
  the moment the person registered: it supersedes instances that started before then, so
  re-deriving an older webinar (a reconciliation, a backfill) cannot turn the contact's
  ``registered`` status for the next one back into ``attended``. Left out means
  Brevo keeps the value the later instance set (or will set), so each attribute ends as
  the latest value known, in any order. Aggregates always cover every instance.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from zoom_brevo.engagement import (
    DEFAULT_WEIGHTS,
    Attendance,
    EngagementSummary,
    Interval,
    MeetingEngagement,
    Participation,
    ScoreWeights,
    SessionRow,
    attendance,
    meeting_engagement,
    summarize,
)
from zoom_brevo.pipeline.commands import Command, SendEvent, UpsertContact
from zoom_brevo.pipeline.mapping import (
    DEFAULT_FIELD_MAPPING,
    AttendanceStatus,
    MappedContact,
    PersonFacts,
    Skipped,
    SkipReason,
    attendance_percent,
    contact_names,
    map_person,
)

Kind = Literal["meeting", "webinar"]
ATTENDED_EVENT = "zoom_attended"
ABSENT_EVENT = "zoom_absent"
TIER_EVENT = "zoom_attended_tier"


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    """The meeting or webinar instance being synced."""

    kind: Kind
    uuid: str
    meeting_id: int
    topic: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    # The webinar's Q&A and poll reports were read: someone absent from them took part 0
    # times (rather than unknown).
    participation_known: bool = False
    occurrence_id: str | None = None  # the occurrence of a recurring meeting or webinar

    @property
    def span(self) -> Interval | None:
        """The instance's actual span, when both ends are known."""
        if self.start_time is None or self.end_time is None:
            return None
        return Interval(self.start_time, self.end_time)


@dataclass(frozen=True, slots=True)
class Registration:
    """A person's registration to the meeting or webinar being synced."""

    status: str = "approved"
    first_name: str | None = None
    last_name: str | None = None
    tracking_source: str | None = None
    join_url: str | None = None
    registered_at: datetime | None = None
    answers: Mapping[str, str] = field(default_factory=dict)  # zoom.registration_form

    @property
    def approved(self) -> bool:
        """Only approved registrations make someone expected (and absent if they stay away)."""
        return self.status == "approved"


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """One instance in a person's history: its span and the person's sessions in it.

    ``registered``: the person had an approved registration for it (no sessions = absence).
    ``kind``: meeting or webinar, when the store knows the instance.
    ``tracking_source``: the source of that approved registration, if it had one.
    ``occurrence_id``: the occurrence it was, of a recurring meeting or webinar.
    """

    uuid: str
    span: Interval | None
    sessions: tuple[SessionRow, ...] = ()
    registered: bool = False
    kind: Kind | None = None
    tracking_source: str | None = None
    occurrence_id: str | None = None


@dataclass(frozen=True, slots=True)
class Upcoming:
    """An approved registration to a meeting or webinar with no collected instance yet.

    ``registered_at``: when the person registered (Zoom's ``create_time``, or the
    registration webhook's ``event_ts``).
    """

    kind: Kind
    registered_at: datetime
    tracking_source: str | None = None


@dataclass(frozen=True, slots=True)
class PersonInput:
    """Everything known about one person (one lower-cased e-mail address)."""

    email: str
    display_name: str | None = None
    registration: Registration | None = None
    history: tuple[InstanceRecord, ...] = ()
    participation: Participation | None = None
    upcoming: tuple[Upcoming, ...] = ()


@dataclass(frozen=True, slots=True)
class DeriveOptions:
    """What the configuration decides: lists by role, field mapping, exclusions, events."""

    lists: Mapping[str, int] = field(default_factory=dict)
    field_mapping: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELD_MAPPING))
    exclude_domains: tuple[str, ...] = ()
    events: bool = True
    weights: ScoreWeights = DEFAULT_WEIGHTS
    tiers: tuple[int, ...] = ()  # attendance thresholds in percent, highest first


@dataclass(frozen=True, slots=True)
class PersonOutcome:
    """What to enqueue and store for one person, or why they were skipped."""

    email: str
    commands: tuple[Command, ...] = ()
    skipped: SkipReason | None = None
    attended: bool = False
    absent: bool = False
    summary: EngagementSummary | None = None
    first_name: str | None = None
    last_name: str | None = None
    events_already_sent: int = 0

    @property
    def contact(self) -> UpsertContact | None:
        """The contact command, if any."""
        found = [c for c in self.commands if isinstance(c, UpsertContact)]
        return found[0] if found else None


def event_key(event_name: str, uuid: str, email: str) -> str:
    """The ledger key of an event for one person and instance."""
    return f"{event_name}:{uuid}:{email}"


def candidate_event_keys(instance: InstanceInfo, email: str) -> tuple[str, ...]:
    """Every event key a person could get for ``instance`` (to look up before deriving)."""
    return tuple(
        event_key(name, instance.uuid, email) for name in (ATTENDED_EVENT, ABSENT_EVENT, TIER_EVENT)
    )


def attendance_tier(percent: int, tiers: Sequence[int]) -> int:
    """The highest of ``tiers`` (percent thresholds) that ``percent`` reaches; 0 below all."""
    return max((t for t in tiers if percent >= t), default=0)


def _current(
    instance: InstanceInfo, person: PersonInput
) -> tuple[InstanceRecord | None, Attendance]:
    """The history's record of the instance being synced, and the attendance in it."""
    record = next((r for r in person.history if r.uuid == instance.uuid), None)
    return record, attendance(record.sessions if record else (), span=instance.span)


def engagement_records(
    person: PersonInput,
    current_uuid: str | None = None,
    known: tuple[InstanceRecord, Attendance] | None = None,
) -> list[MeetingEngagement]:
    """One record per instance of the person's history (absences as ratio 0).

    ``known``: a record of the history whose attendance (over its own span) is computed
    already.
    """
    records = []
    for record in person.history:
        taken = person.participation if record.uuid == current_uuid else None
        if known is not None and record is known[0]:
            attended = known[1]
        else:
            attended = attendance(record.sessions, span=record.span)
        if attended.attended or taken is not None:
            records.append(meeting_engagement(record.uuid, attended, taken))
        elif record.registered:
            records.append(MeetingEngagement(record.uuid, 0.0, ratio=0.0))
    return records


def derive_person(
    instance: InstanceInfo,
    person: PersonInput,
    options: DeriveOptions,
    *,
    already: Set[str] = frozenset(),
    now: datetime,
) -> PersonOutcome:
    """The commands for ``person`` in ``instance`` (rules in the module docstring)."""
    record, present = _current(instance, person)
    registered = person.registration is not None and person.registration.approved
    absent = registered and not present.attended
    # The instance's own span and its record's are the store's alike: computed once.
    known = (record, present) if record is not None and record.span == instance.span else None
    records = engagement_records(person, instance.uuid, known)
    summary = summarize(records, now=now, weights=options.weights)
    if not present.attended and not registered:
        return PersonOutcome(person.email, summary=summary)
    facts = _without_superseded(
        _facts(instance, person, present, absent, summary), superseded(instance, person)
    )
    first, last = contact_names(facts)
    mapped = map_person(
        facts, field_mapping=options.field_mapping, exclude_domains=options.exclude_domains
    )
    if isinstance(mapped, Skipped):
        return PersonOutcome(person.email, skipped=mapped.reason, summary=summary)
    contact = UpsertContact(
        mapped.email, mapped.attributes, _list_ids(instance.kind, present, registered, options)
    )
    events = (
        _events(instance, person, mapped, present, absent, tiers=options.tiers)
        if options.events
        else []
    )
    fresh = [e for e in events if e.ledger_key not in already]
    return PersonOutcome(
        mapped.email,
        commands=(contact, *fresh),
        attended=present.attended,
        absent=absent,
        summary=summary,
        first_name=first,
        last_name=last,
        events_already_sent=len(events) - len(fresh),
    )


def _facts(
    instance: InstanceInfo,
    person: PersonInput,
    present: Attendance,
    absent: bool,
    summary: EngagementSummary,
) -> PersonFacts:
    reg = person.registration
    # Meeting participants get it too (connector spec, "Vergaderingsdeelnemers
    # synchroniseren": ATTENDANCE_STATUS 'attended'), and absent meeting registrants "absent".
    status: AttendanceStatus | None = (
        "attended" if present.attended else ("absent" if absent else None)
    )
    return PersonFacts(
        email=person.email,
        first_name=reg.first_name if reg else None,
        last_name=reg.last_name if reg else None,
        display_name=person.display_name,
        join_time=present.first_join if present.attended else None,
        minutes=present.minutes if present.attended else None,
        webinar_title=instance.topic if instance.kind == "webinar" else None,
        occurrence_id=instance.occurrence_id if present.attended else None,
        attendance_status=status,
        registration_source=reg.tracking_source if reg else None,
        attendance_ratio=present.ratio if present.attended else None,
        engagement=summary,
        answers=reg.answers if reg else None,
        participation=_taken(instance, person) if present.attended else None,
    )


def _taken(instance: InstanceInfo, person: PersonInput) -> Participation | None:
    """The person's questions and polls in the instance; ``None`` when unknown."""
    if person.participation is not None:
        return person.participation
    return Participation() if instance.participation_known else None


@dataclass(frozen=True, slots=True)
class Superseded:
    """Which of the instance's own attributes a later instance of the person's owns."""

    attendance: bool = False
    status: bool = False
    title: bool = False
    source: bool = False
    answers: bool = False
    occurrence: bool = False


def superseded(instance: InstanceInfo, person: PersonInput) -> Superseded:
    """What later instances in ``person``'s history own (rule in the module docstring).

    Later means a later start; two instances that start together are ordered by UUID, so
    exactly one of them is the latest. An instance whose start is unknown is never later,
    and nothing supersedes an instance whose own start is unknown. An upcoming registration
    is later when the person registered after the instance started.
    """
    start = instance.start_time
    if start is None:
        return Superseded()
    this = (start, instance.uuid)
    later = [r for r in person.history if r.span and (r.span.start, r.uuid) > this]
    attended = {r.uuid for r in later if attendance(r.sessions, span=r.span).attended}
    involved = [r for r in later if r.registered or r.uuid in attended]
    newer = [u for u in person.upcoming if u.registered_at > start]
    return Superseded(
        attendance=bool(attended),
        occurrence=any(r.occurrence_id for r in later if r.uuid in attended),
        status=bool(involved) or bool(newer),
        title=any(r.kind == "webinar" for r in involved) or any(u.kind == "webinar" for u in newer),
        source=any(r.registered and r.tracking_source for r in later)
        or any(u.tracking_source for u in newer),
        answers=any(r.registered for r in later) or bool(newer),
    )


def _without_superseded(facts: PersonFacts, later: Superseded) -> PersonFacts:
    if later.attendance:
        facts = replace(
            facts,
            join_time=None,
            minutes=None,
            attendance_ratio=None,
            participation=None,
        )
    if later.occurrence:
        facts = replace(facts, occurrence_id=None)
    if later.status:
        facts = replace(facts, attendance_status=None)
    if later.title:
        facts = replace(facts, webinar_title=None)
    if later.source:
        facts = replace(facts, registration_source=None)
    if later.answers:
        facts = replace(facts, answers=None)
    return facts


def _list_ids(
    kind: Kind, present: Attendance, registered: bool, options: DeriveOptions
) -> tuple[int, ...]:
    if kind == "meeting":
        roles = ["meeting_participants"] if present.attended else []
    else:
        roles = ["webinar_registrants"] if registered else []
        if present.attended:
            roles.append("webinar_attendees")
        elif registered:
            roles.append("webinar_absentees")
    return tuple(options.lists[r] for r in roles if options.lists.get(r))


def _events(
    instance: InstanceInfo,
    person: PersonInput,
    contact: MappedContact,
    present: Attendance,
    absent: bool,
    *,
    tiers: Sequence[int],
) -> list[SendEvent]:
    properties = _event_properties(instance, person)
    if present.attended:
        properties["minutes_attended"] = round(present.minutes, 1)
        taken = _taken(instance, person)
        if taken is not None:
            properties |= {
                "questions_asked": taken.questions,
                "polls_answered": taken.polls_answered,
            }
        name = ATTENDED_EVENT
    elif absent:
        name = ABSENT_EVENT
    else:
        return []
    key = event_key(name, instance.uuid, contact.email)
    events = [SendEvent(name, contact.email, key, properties)]
    percent = attendance_percent(present.ratio) if present.attended else None
    if tiers and percent is not None:
        # Only with an actual span: a tier of an unknown length would be a guess.
        tier = {"tier": attendance_tier(percent, tiers), "attendance_percent": percent}
        key = event_key(TIER_EVENT, instance.uuid, contact.email)
        events.append(SendEvent(TIER_EVENT, contact.email, key, properties | tier))
    return events


def _event_properties(instance: InstanceInfo, person: PersonInput) -> dict[str, Any]:
    reg = person.registration
    values: dict[str, Any] = {
        f"{instance.kind}_id": str(instance.meeting_id),
        "uuid": instance.uuid,
        "occurrence_id": instance.occurrence_id,
        "topic": instance.topic,
        "start_time": iso(instance.start_time),
        "end_time": iso(instance.end_time),
        "join_url": reg.join_url if reg else None,
    }
    return {k: v for k, v in values.items() if v not in (None, "")}


@functools.lru_cache(maxsize=256)  # every person's events carry the instance's own times
def iso(value: datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC, as the pipeline's events carry times."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
