"""A vendor-neutral, deterministic world of hosts, meetings, webinars and the people in them.

The emulators render it in Zoom's shapes; tests and the demo read it through plain accessors
to compute, independently, what Brevo should end up holding.

Model
-----
- ``Scenario(seed, anchor)``: everything is a pure function of ``seed``; times are placed
  relative to ``anchor`` (default: the current hour, UTC), so past meetings stay "recent".
- **People** form a lazy pool: ``sc.person(i)`` builds person ``i`` on demand from the seed.
  About 4% are guests without an e-mail; about 2.5% repeat the previous person's address
  in different letter case (one human, two sign-ins); about two thirds of the rest are
  signed-in Zoom users with a ``zoom_user_id``. ``sc.new_person(...)`` adds a chosen one.
- **Users** (hosts): ``sc.user(email=...)``.
- **Meetings** (``sc.meeting(host, ...)``) have one or several ended **instances**
  (recurring: one a week, oldest first), each with a caller-chosen or generated UUID (UUIDs
  may start with ``/`` or contain ``//``), ``start``/``end`` and ``participant_count``
  attendees. ``end`` is when the instance actually ended: the schedule's
  ``duration_min`` plus ``overrun_min`` (negative: it ended early), as real meetings and
  webinars overrun; attendees stay until the actual end. The instance's
  attendees are taken from the pool at ``people_offset``. Every attendee has one or more join
  **sessions** (``Session``): one visit (75%), a rejoin after a gap (10%), two devices at
  once = overlapping sessions (5%), a waiting-room row then the meeting (5%), or a short
  visit (5%). ``instance.add_attendee(person, sessions)`` adds hand-made attendance.
- **Webinars** (``sc.webinar(host, ...)``) have ``registrants`` (first/last name, e-mail,
  status, a tracking source among ``sources`` or none), ``attendees`` of them spread evenly
  over the registrant list (linked by ``registrant_id``), optional unregistered ``guests``,
  and absentees = approved registrants who did not attend. Optional Q&A and poll answers.
- **Registration** (webinars and meetings): ``approval_type`` (0 automatic, 1 manual = new
  registrants are pending, 2 none), the form's standard ``form_fields`` and custom
  ``form_questions`` with what is required. ``add_registrant(..., status="denied")`` blocks
  an address. A meeting made with no ``registrants`` has registration off (2), Zoom's
  default; only scheduled (2) and fixed-time recurring (8) meetings can take registrants.
- **Recordings** (``recording=True``): share URL, passcode and files per instance; who
  watched or downloaded it later (``Instance.views``, served as recording analytics), and
  who registered to view it on demand (``recording_registrants``).

Rows are generated from an index on demand, so 100,000 attendees cost no memory until
iterated, and iteration allocates one small object per row.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import struct
import unicodedata
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

_MASK64 = (1 << 64) - 1
_FIRST = ("Ann", "Bob", "Chloé", "Dev", "Eva", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea")
_LAST = ("Lee", "Martin", "Nakamura", "Okafor", "Petit", "Quinn", "Rossi", "Silva", "Tran")
_DOMAINS = ("example.com", "example.org", "example.net", "acme.example")
# Registration form answers; "" = left blank (Zoom sends "" for fields the form did not ask
# or the registrant skipped).
_ORGS = ("Acme Corp", "Globex", "Initech", "Umbrella Health", "")
_JOBS = ("Marketing Manager", "CTO", "Sales Lead", "Data Analyst", "", "")
_COUNTRIES = ("NL", "DE", "US", "FR", "BE")
LEARN_QUESTION = "What would you like to learn?"
_LEARN = ("Automation", "Segmentation", "Reporting", "")


def mix(*parts: int) -> int:
    """A 64-bit hash of integers, stable across runs (unlike ``hash``)."""
    packed = struct.pack(f"<{len(parts)}Q", *(p & _MASK64 for p in parts))
    return int.from_bytes(hashlib.blake2b(packed, digest_size=8).digest(), "little")


def salt(text: str) -> int:
    """A stable integer for a string (for mixing into ``mix``)."""
    return zlib.crc32(text.encode())


def token(h: int, length: int, *, url_safe: bool = True) -> str:
    """A deterministic base64 identifier of ``length`` characters drawn from ``h``."""
    digest = hashlib.blake2b(h.to_bytes(8, "little"), digest_size=(length * 3 + 3) // 4).digest()
    text = base64.b64encode(digest, altchars=b"-_" if url_safe else None).decode()
    return text[:length]


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who registers for or joins meetings; ``email`` is ``""`` for a guest."""

    index: int
    first_name: str
    last_name: str
    email: str
    zoom_user_id: str = ""

    @property
    def name(self) -> str:
        """Display name as Zoom shows it."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_guest(self) -> bool:
        """True when Zoom knows no e-mail for this person."""
        return not self.email


@dataclass(frozen=True, slots=True)
class User:
    """A Zoom user of the account (a host)."""

    id: str
    email: str
    first_name: str
    last_name: str
    pmi: int
    created_at: datetime
    timezone: str = "Europe/Paris"


@dataclass(frozen=True, slots=True)
class Session:
    """One join/leave interval of one person; ``user_id`` is Zoom's per-session id."""

    join: datetime
    leave: datetime
    user_id: str
    status: str = "in_meeting"

    @property
    def duration_s(self) -> int:
        """Seconds between join and leave."""
        return int((self.leave - self.join).total_seconds())


@dataclass(frozen=True, slots=True)
class TrackingSource:
    """A webinar registration link with its source name (UTM-like)."""

    id: str
    source_name: str
    tracking_url: str
    visitor_count: int = 0


@dataclass(frozen=True, slots=True)
class Registrant:
    """A registration for a webinar (or a meeting with registration)."""

    index: int
    id: str
    first_name: str
    last_name: str
    email: str
    status: str
    create_time: datetime
    join_url: str
    tracking_source: TrackingSource | None
    person: Person
    # The form's answers: standard fields (Zoom's names) and custom questions (title, value).
    fields: tuple[tuple[str, str], ...] = ()
    questions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls, person: Person, index: int, h: int, *, status: str, created: datetime,
        join_url: str, source: TrackingSource | None = None,
        fields: Sequence[tuple[str, str]] = (), questions: Sequence[tuple[str, str]] = (),
    ) -> Registrant:  # fmt: skip
        """``person``'s registration number ``index``, its id drawn from the hash ``h``."""
        return cls(
            index=index, id=token(h, 22), first_name=person.first_name,
            last_name=person.last_name, email=person.email, status=status,
            create_time=created, join_url=join_url, tracking_source=source, person=person,
            fields=tuple(fields), questions=tuple(questions),
        )  # fmt: skip


def form_answers(h: int) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Deterministic answers from a hash: some blank, as real forms have."""
    fields = (
        ("org", _ORGS[h % len(_ORGS)]),
        ("job_title", _JOBS[(h >> 4) % len(_JOBS)]),
        ("country", _COUNTRIES[(h >> 8) % len(_COUNTRIES)]),
    )
    return fields, ((LEARN_QUESTION, _LEARN[(h >> 12) % len(_LEARN)]),)


@dataclass(frozen=True, slots=True)
class FormQuestion:
    """A custom question of a webinar's registration form."""

    title: str
    required: bool = False
    type: str = "short"  # short | single_radio | single_dropdown | multiple
    answers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Attendance:
    """A person's sessions in one instance; ``registrant`` links a webinar attendee."""

    person: Person
    sessions: tuple[Session, ...]
    registrant: Registrant | None = None


SURVEY_QUESTIONS = ("How would you rate this webinar?", "What should we cover next?")


@dataclass(frozen=True, slots=True)
class QuestionAnswer:
    """One Q&A question (and its answer) or one poll answer."""

    question: str
    answer: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RecordingFile:
    """One file of a cloud recording."""

    id: str
    file_type: str
    file_extension: str
    recording_type: str
    file_size: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Recording:
    """A cloud recording of one instance."""

    share_url: str
    passcode: str
    files: tuple[RecordingFile, ...]

    @property
    def total_size(self) -> int:
        """Sum of the file sizes in bytes."""
        return sum(f.file_size for f in self.files)


@dataclass(frozen=True, slots=True)
class RecordingView:
    """Someone who watched (or downloaded) an instance's cloud recording later.

    What Zoom's recording analytics list per viewer (``analytics_details``): e-mail, name,
    when, and for a view the seconds watched.
    """

    email: str
    name: str
    at: datetime
    duration_s: int = 0
    kind: str = "by_view"  # or "by_download"


def _sessions_for(h: int, start: datetime, end: datetime, first_user_id: int) -> list[Session]:
    """The sessions of one attendee, drawn from ``h`` (see the module docstring)."""
    span = max(60, int((end - start).total_seconds()))
    tenth = max(1, span // 10)
    join = start + timedelta(seconds=(h >> 8) % tenth)
    leave = end - timedelta(seconds=(h >> 20) % tenth)
    kind = h % 100
    ids = (str(first_user_id + k) for k in range(2))
    if kind < 75:
        return [Session(join, leave, next(ids))]
    if kind < 85:
        mid = join + (leave - join) * 2 / 5
        back = mid + timedelta(seconds=60 + (h >> 32) % 240)
        return [Session(join, mid, next(ids)), Session(back, leave, next(ids))]
    if kind < 90:
        quarter = (leave - join) / 4
        return [
            Session(join, leave, next(ids)),
            Session(join + quarter, leave - quarter, next(ids)),
        ]
    if kind < 95:
        waited = join - timedelta(seconds=30 + (h >> 32) % 270)
        return [
            Session(waited, join, next(ids), status="in_waiting_room"),
            Session(join, leave, next(ids)),
        ]
    return [Session(join, min(leave, join + timedelta(minutes=5 + (h >> 32) % 10)), next(ids))]


def session_count(h: int) -> int:
    """How many sessions ``_sessions_for`` makes for hash ``h`` (without building them)."""
    return 1 if h % 100 < 75 or h % 100 >= 95 else 2


@dataclass(eq=False)
class Instance:
    """One occurrence of a meeting or webinar, with its attendance."""

    uuid: str
    start: datetime
    end: datetime
    parent: Meeting | Webinar
    participant_count: int = 0
    people_offset: int = 0
    recording: Recording | None = None
    extra: list[Attendance] = field(default_factory=list)
    views: list[RecordingView] = field(default_factory=list)  # of the recording, later
    _rows: int | None = field(default=None, repr=False)
    # The occurrence's scheduled start, when the host started it at another time (Zoom's
    # ``occurrences[].start_time`` is the schedule; the past instance's is the actual).
    scheduled: datetime | None = None

    @property
    def scheduled_start(self) -> datetime:
        """When the occurrence was scheduled to start."""
        return self.scheduled or self.start

    @functools.cached_property
    def salt(self) -> int:
        """Mixing constant of this instance."""
        return mix(self.parent.scenario.seed, salt(self.uuid))

    @property
    def attendee_count(self) -> int:
        """Attendees, generated and added."""
        return self.participant_count + len(self.extra)

    def attendance(self, pos: int) -> Attendance:
        """The ``pos``-th attendance (generated ones first, then added ones)."""
        if pos >= self.participant_count:
            return self.extra[pos - self.participant_count]
        person, registrant = self.parent.attendee(self, pos)
        h = mix(self.salt, pos)
        sessions = _sessions_for(h, self.start, self.end, 16_778_240 + 4 * pos)
        return Attendance(person, tuple(sessions), registrant)

    def attendances(self, start: int = 0) -> Iterator[Attendance]:
        """All attendances, lazily, from position ``start``."""
        for pos in range(start, self.attendee_count):
            yield self.attendance(pos)

    def sessions(self) -> Iterator[tuple[Attendance, Session]]:
        """Every participant row Zoom would list: one per session."""
        for att in self.attendances():
            for session in att.sessions:
                yield att, session

    def row_count(self) -> int:
        """Number of session rows (cached; computed without building rows)."""
        if self._rows is None:
            base = self.salt
            generated = sum(session_count(mix(base, p)) for p in range(self.participant_count))
            self._rows = generated + sum(len(a.sessions) for a in self.extra)
        return self._rows

    def add_attendee(
        self,
        person: Person,
        sessions: Sequence[tuple[datetime, datetime] | Session],
        registrant: Registrant | None = None,
    ) -> Attendance:
        """Add a hand-made attendance; plain ``(join, leave)`` pairs get session ids."""
        built = [
            s
            if isinstance(s, Session)
            else Session(s[0], s[1], str(90_000_000 + 8 * self.attendee_count + k))
            for k, s in enumerate(sessions)
        ]
        att = Attendance(person, tuple(built), registrant)
        self.extra.append(att)
        self._rows = None
        return att

    def qa(self) -> Iterator[tuple[Person, list[QuestionAnswer]]]:
        """Webinar Q&A: about one attendee in seven asked a question (if enabled)."""
        return self._answers(7, "Q&A", enabled=getattr(self.parent, "has_qa", False))

    def poll_answers(self) -> Iterator[tuple[Person, list[QuestionAnswer]]]:
        """Webinar poll: about one attendee in three answered (if enabled)."""
        answered = self._answers(3, "Poll", enabled=getattr(self.parent, "has_polls", False))
        if not getattr(self.parent, "poll_changes", False):
            return answered
        return self._changed(answered)

    def _changed(
        self, answered: Iterator[tuple[Person, list[QuestionAnswer]]]
    ) -> Iterator[tuple[Person, list[QuestionAnswer]]]:
        # A relaunched poll: every other person answered the question earlier too, listed
        # after the later answer (the report's order is not the order of answering).
        for pos, (person, items) in enumerate(answered):
            first = items[0]
            earlier = QuestionAnswer(
                first.question, "Earlier answer", first.at - timedelta(minutes=2)
            )
            yield person, [*items, earlier] if pos % 2 == 0 else items

    def survey_answers(self) -> Iterator[tuple[Person, list[QuestionAnswer]]]:
        """Webinar survey (if enabled): about one attendee in two answered its two questions
        as the webinar ended; one in four changed the first answer later (listed first)."""
        if not getattr(self.parent, "has_survey", False):
            return
        for pos, att in enumerate(self.attendances()):
            h = mix(self.salt, salt("Survey"), pos)
            if h % 2:
                continue
            at = self.end + timedelta(minutes=1)
            items = [
                QuestionAnswer(SURVEY_QUESTIONS[0], f"{h % 5 + 1} stars", at),
                QuestionAnswer(SURVEY_QUESTIONS[1], f"Topic {(h >> 8) % 3 + 1}", at),
            ]
            if h % 4 == 0:
                revised = f"{(h >> 4) % 5 + 1} stars (revised)"
                items.insert(
                    0, QuestionAnswer(SURVEY_QUESTIONS[0], revised, at + timedelta(minutes=5))
                )
            yield att.person, items

    def _answers(
        self, every: int, kind: str, *, enabled: bool
    ) -> Iterator[tuple[Person, list[QuestionAnswer]]]:
        if not enabled:
            return
        for pos, att in enumerate(self.attendances()):
            h = mix(self.salt, salt(kind), pos)
            if h % every == 0:
                at = att.sessions[0].join + timedelta(minutes=5)
                text = f"{kind} question {h % 5 + 1}"
                yield att.person, [QuestionAnswer(text, f"Answer {(h >> 8) % 4 + 1}", at)]

    @property
    def ended(self) -> datetime:
        """When the instance ended (alias of ``end``)."""
        return self.end


@dataclass(eq=False)
class _Hosted:
    """What meetings and webinars share: ids, host, schedule, instances, registrants."""

    scenario: Scenario
    id: int
    host: User
    topic: str
    type: int
    duration_min: int
    created_at: datetime
    password: str
    instances: list[Instance] = field(default_factory=list)
    registrant_count: int = 0
    registrants_offset: int = 0
    sources: list[TrackingSource] = field(default_factory=list)
    extra_registrants: list[Registrant] = field(default_factory=list)
    agenda: str = ""
    deleted: set[int] = field(default_factory=set)  # registrants deleted through the API
    # People registered to view the on-demand cloud recording (a registration, not a view).
    recording_registrants: list[Registrant] = field(default_factory=list)
    # Registration: 0 approved at once, 1 the host approves (pending), 2 no registration.
    approval_type: int = 0
    form_fields: tuple[tuple[str, bool], ...] = ()  # (Zoom field name, required)
    form_questions: tuple[FormQuestion, ...] = ()
    # Registration requests per (lower-cased e-mail, UTC day), for Zoom's daily limit.
    registration_requests: dict[tuple[str, str], int] = field(default_factory=dict)
    # How many registrants it takes (None: Zoom's own limit, 4,999 for a meeting).
    registration_capacity: int | None = None

    @property
    def join_url(self) -> str:
        """The join link."""
        return f"https://zoom.us/j/{self.id}?pwd={self.password}"

    @property
    def latest(self) -> Instance:
        """The most recent instance."""
        return self.instances[-1]

    @property
    def registrants(self) -> RegistrantList:
        """All registrants, lazily (generated first, then added)."""
        return RegistrantList(self)

    def registrant(self, i: int) -> Registrant:
        """Registrant number ``i``."""
        if i >= self.registrant_count:
            return self.extra_registrants[i - self.registrant_count]
        sc = self.scenario
        person = sc.person(self.registrants_offset + i)
        h = mix(sc.seed, self.id, i)
        email = person.email or sc.base_email(person.index)
        source = self.source_of(i)
        fields, questions = form_answers(h >> 5)
        return Registrant(
            index=i,
            id=token(h, 22),
            first_name=person.first_name,
            last_name=person.last_name,
            email=email,
            status="approved",
            create_time=self.created_at + timedelta(minutes=i % 10_000),
            join_url=f"https://zoom.us/w/{self.id}?tk={token(h >> 3, 22)}",
            tracking_source=source,
            person=person,
            fields=fields,
            questions=questions,
        )

    def source_of(self, i: int) -> TrackingSource | None:
        """The tracking source of registrant ``i`` (cheap: no registrant is built)."""
        if i >= self.registrant_count:
            return self.extra_registrants[i - self.registrant_count].tracking_source
        pick = mix(self.scenario.seed, self.id, i) % (len(self.sources) + 1)
        return self.sources[pick] if pick < len(self.sources) else None

    def status_of(self, i: int) -> str:
        """The status of registrant ``i`` (generated ones are approved)."""
        if i in self.deleted:
            return "deleted"
        if i >= self.registrant_count:
            return self.extra_registrants[i - self.registrant_count].status
        return "approved"

    def add_registrant(
        self,
        person: Person,
        *,
        status: str = "approved",
        source: TrackingSource | None = None,
        fields: Sequence[tuple[str, str]] = (),
        questions: Sequence[tuple[str, str]] = (),
    ) -> Registrant:
        """Add a hand-made registrant (it attends only if added to an instance)."""
        i = self.registrant_count + len(self.extra_registrants)
        h = mix(self.scenario.seed, self.id, i)
        reg = Registrant.of(
            person, i, h, status=status, created=self.created_at,
            join_url=f"https://zoom.us/w/{self.id}?tk={token(h >> 3, 16)}",
            source=source, fields=fields, questions=questions,
        )  # fmt: skip
        self.extra_registrants.append(reg)
        return reg

    def add_recording_registrant(self, person: Person, *, status: str = "approved") -> Registrant:
        """Register ``person`` to view the on-demand recording."""
        i = len(self.recording_registrants)
        h = mix(self.scenario.seed, 7, self.id, i)
        reg = Registrant.of(person, i, h, status=status, created=self.created_at, join_url="")
        self.recording_registrants.append(reg)
        return reg

    def attendee(self, instance: Instance, pos: int) -> tuple[Person, Registrant | None]:
        """Who is at attendee position ``pos`` of ``instance`` (meetings: pool people)."""
        return self.scenario.person(instance.people_offset + pos), None

    def add_instance(
        self,
        *,
        uuid: str | None = None,
        start: datetime | None = None,
        participants: int | None = None,
        recording: bool = False,
        overrun_min: float = 0,
    ) -> Instance:
        """Append a later occurrence (default: one week after the latest).

        ``overrun_min``: how much longer than scheduled it actually ran (negative: shorter).
        """
        sc = self.scenario
        prev = self.instances[-1] if self.instances else None
        begin = start or (prev.start + timedelta(days=7) if prev else sc.anchor)
        count = (
            participants if participants is not None else (prev.participant_count if prev else 0)
        )
        n = len(self.instances)
        inst = Instance(
            uuid=uuid or sc.new_uuid(self.id, n),
            start=begin,
            end=begin + timedelta(minutes=self.duration_min + overrun_min),
            parent=self,  # type: ignore[arg-type]
            participant_count=count,
            people_offset=prev.people_offset if prev else 0,
        )
        if recording:
            inst.recording = sc.new_recording(inst)
        self.instances.append(inst)
        sc.index_instance(inst)
        return inst


@dataclass(eq=False)
class Meeting(_Hosted):
    """A scheduled (type 2) or recurring (type 8) meeting."""


@dataclass(eq=False)
class Webinar(_Hosted):
    """A webinar (type 5, recurring 9) with registrants, attendees and absentees."""

    attendees: int = 0
    guests: int = 0
    has_qa: bool = False
    has_polls: bool = False
    poll_changes: bool = False  # some people answered a poll question twice
    has_survey: bool = False
    survey_on_plan: bool = True  # False: the account's plan has no survey reports (code 200)

    def attended(self, i: int) -> bool:
        """Whether generated registrant ``i`` attended (attendees are spread evenly)."""
        if i >= self.registrant_count or self.registrant_count == 0:
            return False
        a, r = self.attendees, self.registrant_count
        return (i + 1) * a // r > i * a // r

    def attendee(
        self,
        instance: Instance,  # noqa: ARG002 - same signature as the meeting's, which uses it
        pos: int,
    ) -> tuple[Person, Registrant | None]:
        """Attendee ``pos``: registrants who attended first, then unregistered guests."""
        if pos < self.attendees:
            r = -(-(pos + 1) * self.registrant_count // self.attendees) - 1
            reg = self.registrant(r)
            return reg.person, reg
        sc = self.scenario
        return sc.person(self.registrants_offset + self.registrant_count + pos), None

    def absentees_watch(self, instance: Instance, count: int) -> list[RecordingView]:
        """The first ``count`` absentees watch ``instance``'s recording, one an hour from an
        hour after its end, each for a deterministic 5 to 45 minutes."""
        views = [
            RecordingView(
                reg.email,
                f"{reg.first_name} {reg.last_name}",
                instance.end + timedelta(hours=k + 1),
                duration_s=300 + mix(instance.salt, 8, k) % 2400,
            )
            for k, reg in zip(range(count), self.absentees(), strict=False)
        ]
        instance.views.extend(views)
        return views

    def absentee_count(self) -> int:
        """How many registrants ``absentees()`` yields."""
        extra = sum(1 for _ in self._extra_absentees())
        return self.registrant_count - self.attendees + extra

    def _extra_absentees(self) -> Iterator[Registrant]:
        attended = {a.registrant.id for inst in self.instances for a in inst.extra if a.registrant}
        for reg in self.extra_registrants:
            if reg.status == "approved" and reg.id not in attended:
                yield reg

    def absentees(self, start: int = 0) -> Iterator[Registrant]:
        """Approved registrants who attended no session, from registrant index ``start``."""
        for i in range(start, self.registrant_count):
            if not self.attended(i):
                yield self.registrant(i)
        yield from (r for r in self._extra_absentees() if r.index >= start)


class RegistrantList:
    """A lazy, indexable view of a meeting's or webinar's registrants."""

    def __init__(self, owner: _Hosted) -> None:
        self._owner = owner

    def __len__(self) -> int:
        return self._owner.registrant_count + len(self._owner.extra_registrants)

    def __getitem__(self, i: int) -> Registrant:
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._owner.registrant(i)

    def __iter__(self) -> Iterator[Registrant]:
        return (self._owner.registrant(i) for i in range(len(self)))


def _current_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


class Scenario:
    """The world: hosts, people, meetings, webinars. See the module docstring."""

    def __init__(
        self,
        seed: int = 1,
        *,
        anchor: datetime | None = None,
        now: Callable[[], datetime] = _current_hour,
    ) -> None:
        self.seed = seed
        self.anchor = anchor or now()
        self.users: list[User] = []
        self.meetings: list[Meeting] = []
        self.webinars: list[Webinar] = []
        self._instances: dict[str, Instance] = {}
        self._new_people = 0

    # --- people -----------------------------------------------------------------------
    def base_email(self, index: int) -> str:
        """The lower-case address person ``index`` would have."""
        h = mix(self.seed, 1, index)
        first, last = _FIRST[h % len(_FIRST)], _LAST[(h >> 8) % len(_LAST)]
        domain = _DOMAINS[(h >> 16) % len(_DOMAINS)]
        local = unicodedata.normalize("NFKD", f"{first}.{last}.{index}").encode("ascii", "ignore")
        return f"{local.decode()}@{domain}".lower()

    def person(self, index: int) -> Person:
        """Person ``index`` of the pool (built on demand; same seed, same person)."""
        h = mix(self.seed, 1, index)
        if index > 0 and (h >> 40) % 40 == 3:
            twin = self.person(index - 1)
            email = self.base_email(index - 1).swapcase() if twin.email else ""
            return Person(index, twin.first_name, twin.last_name, email, "")
        first, last = _FIRST[h % len(_FIRST)], _LAST[(h >> 8) % len(_LAST)]
        guest = (h >> 24) % 25 == 7
        email = "" if guest else self.base_email(index)
        signed_in = not guest and (h >> 32) % 3 != 0
        return Person(index, first, last, email, token(h, 22) if signed_in else "")

    def new_person(
        self,
        email: str,
        first_name: str = "Test",
        last_name: str = "Person",
        zoom_user_id: str = "",
    ) -> Person:
        """A hand-made person outside the pool."""
        self._new_people += 1
        return Person(10**9 + self._new_people, first_name, last_name, email, zoom_user_id)

    # --- hosts ------------------------------------------------------------------------
    def user(
        self, email: str | None = None, *, first_name: str = "Host", last_name: str | None = None
    ) -> User:
        """The host with ``email`` (created on first use)."""
        n = len(self.users)
        email = email or f"host{n}@example.com"
        for user in self.users:
            if user.email.lower() == email.lower():
                return user
        h = mix(self.seed, 2, n)
        user = User(
            id=token(h, 22),
            email=email,
            first_name=first_name,
            last_name=last_name or f"Number{n}",
            pmi=3_000_000_000 + h % 999_999_999,
            created_at=self.anchor - timedelta(days=400),
        )
        self.users.append(user)
        return user

    # --- meetings and webinars --------------------------------------------------------
    def meeting(
        self,
        host: User,
        *,
        topic: str = "Team meeting",
        uuid: str | None = None,
        participants: int = 10,
        instances: int = 1,
        start: datetime | None = None,
        duration_min: int = 60,
        people_offset: int = 0,
        recording: bool = False,
        registrants: int = 0,
        meeting_id: int | None = None,
        overrun_min: float = 0,
        approval_type: int | None = None,
    ) -> Meeting:
        """A meeting with ``instances`` ended occurrences (weekly), the latest at ``start``.

        ``overrun_min``: how much longer than scheduled the latest occurrence ran.
        """
        meeting = Meeting(
            **self._hosted_args(host, topic, meeting_id, duration_min, 8 if instances > 1 else 2),  # type: ignore[arg-type]
            registrant_count=registrants,
            registrants_offset=people_offset,
            approval_type=(0 if registrants else 2) if approval_type is None else approval_type,
        )
        self._occurrences(
            meeting,
            uuid,
            instances,
            start=start,
            participants=participants,
            people_offset=people_offset,
            recording=recording,
            overrun_min=overrun_min,
        )
        self.meetings.append(meeting)
        return meeting

    def webinar(
        self,
        host: User,
        *,
        topic: str = "Product webinar",
        uuid: str | None = None,
        registrants: int = 100,
        attendees: int = 60,
        guests: int = 0,
        sources: int = 3,
        instances: int = 1,
        start: datetime | None = None,
        duration_min: int = 60,
        people_offset: int = 0,
        recording: bool = False,
        qa: bool = False,
        polls: bool = False,
        survey: bool = False,
        webinar_id: int | None = None,
        overrun_min: float = 0,
    ) -> Webinar:
        """A webinar with registrants, ``attendees`` of whom came, and absentees.

        ``overrun_min``: how much longer than scheduled the latest occurrence ran.
        """
        if attendees > registrants:
            raise ValueError("attendees cannot exceed registrants")
        webinar = Webinar(
            **self._hosted_args(host, topic, webinar_id, duration_min, 9 if instances > 1 else 5),  # type: ignore[arg-type]
            registrant_count=registrants,
            registrants_offset=people_offset,
            attendees=attendees,
            guests=guests,
            has_qa=qa,
            has_polls=polls,
            has_survey=survey,
        )
        webinar.sources = [self._source(webinar.id, k) for k in range(sources)]
        self._occurrences(
            webinar,
            uuid,
            instances,
            start=start,
            participants=attendees + guests,
            people_offset=0,
            recording=recording,
            overrun_min=overrun_min,
        )
        self.webinars.append(webinar)
        return webinar

    def _hosted_args(
        self, host: User, topic: str, given_id: int | None, duration_min: int, kind: int
    ) -> dict[str, object]:
        n = len(self.meetings) + len(self.webinars)
        h = mix(self.seed, 3, n)
        return {
            "scenario": self,
            "id": given_id or 81_000_000_000 + h % 9_000_000_000,
            "host": host,
            "topic": topic,
            "type": kind,
            "duration_min": duration_min,
            "created_at": self.anchor - timedelta(days=60),
            "password": token(h, 8),
        }

    def _occurrences(
        self,
        parent: _Hosted,
        uuid: str | None,
        count: int,
        *,
        start: datetime | None,
        participants: int,
        people_offset: int,
        recording: bool,
        overrun_min: float = 0,
    ) -> None:
        n = len(self.meetings) + len(self.webinars)
        latest = start or self.anchor - timedelta(days=1, hours=n % 20)
        for k in range(count):
            begin = latest - timedelta(days=7 * (count - 1 - k))
            inst = parent.add_instance(
                uuid=uuid if k == count - 1 else None,
                start=begin,
                participants=participants,
                recording=recording,
                overrun_min=overrun_min if k == count - 1 else 0,
            )
            inst.people_offset = people_offset

    def _source(self, parent_id: int, k: int) -> TrackingSource:
        names = ("Newsletter", "LinkedIn", "Partner site", "Twitter", "Website")
        h = mix(self.seed, 4, parent_id, k)
        sid = token(h, 22)
        return TrackingSource(
            id=sid,
            source_name=names[k % len(names)] + (f" {k // len(names) + 1}" if k >= 5 else ""),
            tracking_url=f"https://zoom.us/webinar/register/{token(h >> 1, 16)}?tk={sid}",
            visitor_count=10 + h % 500,
        )

    def new_uuid(self, parent_id: int, n: int) -> str:
        """A Zoom-like instance UUID (24 characters of base64)."""
        return token(mix(self.seed, 5, parent_id, n), 22, url_safe=False) + "=="

    def new_recording(self, inst: Instance) -> Recording:
        """A cloud recording of ``inst``: video, audio and transcript files."""
        h = mix(inst.salt, 6)
        kinds = (
            ("MP4", "MP4", "shared_screen_with_speaker_view", 250_000_000),
            ("M4A", "M4A", "audio_only", 30_000_000),
            ("TRANSCRIPT", "VTT", "audio_transcript", 60_000),
        )
        files = tuple(
            RecordingFile(
                id=f"{token(mix(h, k), 8).lower()}-{token(mix(h, k, 1), 4).lower()}",
                file_type=ftype,
                file_extension=ext,
                recording_type=rtype,
                file_size=size + h % 1000,
                start=inst.start,
                end=inst.end,
            )
            for k, (ftype, ext, rtype, size) in enumerate(kinds)
        )
        return Recording(
            share_url=f"https://zoom.us/rec/share/{token(h, 32)}",
            passcode=token(h >> 5, 8),
            files=files,
        )

    # --- lookup -----------------------------------------------------------------------
    def index_instance(self, inst: Instance) -> None:
        """Register an instance for lookup by UUID."""
        self._instances[inst.uuid] = inst

    def instance(self, uuid: str) -> Instance | None:
        """The instance with ``uuid``."""
        return self._instances.get(uuid)

    def find(self, numeric_id: int) -> Meeting | Webinar | None:
        """The meeting or webinar with this number."""
        for meeting in self.meetings:
            if meeting.id == numeric_id:
                return meeting
        for webinar in self.webinars:
            if webinar.id == numeric_id:
                return webinar
        return None
