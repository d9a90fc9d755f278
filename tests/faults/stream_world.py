"""A busy day of Zoom for the kill test: its meetings and webinars, their webhooks, and the
Brevo state they must produce.

**Live** instances (ended a few hours ago) reach the connector through webhooks only; the
**past** ones (two to eight weeks ago) only through ``backfill``. Every instance has its own
people (disjoint ranges of the scenario's pool, one unused person between ranges so that
no case-twin straddles two of them): "the latest meeting" attributes then do not depend on
the order in which concurrent workers collect instances, and the expectations below are
exact.

The webhooks come in three stages, as in real life where a registration precedes the
webinar by hours: the registrations, then the cancellations of some of them, then the
meetings and webinars themselves (started, joins and leaves, ended, ``recording.completed``
twice with different download tokens). Each stage is played once the previous one is
processed. Within a stage, instances are interleaved; randomly chosen deliveries are
repeated (half byte for byte, half re-signed) until the stream counts exactly
``TOTAL_DELIVERIES`` (about 8 % repeats).
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.acceptance.test_realtime import union_minutes
from zoom_brevo.sandbox.scenario import Attendance, Instance, Registrant, Scenario, Session, Webinar
from zoom_brevo.sandbox.webhook_sender import ZoomEvents, encode

TOTAL_DELIVERIES = 10_000
LIVE_MEETINGS, MEETING_PEOPLE = 54, 30
LIVE_WEBINARS, REGISTRANTS, ATTENDEES, GUESTS, CANCELLED = 12, 150, 90, 4, 2
PAST_MEETINGS, PAST_PEOPLE = 10, 40
PAST_WEBINARS, PAST_REGISTRANTS, PAST_ATTENDEES = 4, 80, 50
HOSTS = 4
REORDER_EVERY = 6  # one join/leave pair in six arrives leave first
MAX_REPEAT_SHARE = 0.2  # Zoom's duplicates: well under one delivery in five
ACCOUNT_ID = "sandbox-account"


@dataclass(frozen=True, slots=True)
class Planned:
    """One webhook to deliver; ``repeat_of`` names an earlier one it duplicates."""

    number: int
    body: bytes
    repeat_of: int | None = None
    same_headers: bool = False


@dataclass
class World:
    """The scenario, which instances go through which path, and who cancelled."""

    scenario: Scenario
    live: list[Instance]
    past: list[Instance]
    cancelled: dict[int, list[Registrant]]  # live webinar id -> cancelled registrants
    backfill_from: date
    backfill_to: date


class People:
    """Hands out disjoint ranges of the scenario's person pool."""

    def __init__(self) -> None:
        self.next = 0

    def take(self, count: int) -> int:
        start = self.next
        self.next += count + 1  # one unused person: no case-twin across two ranges
        return start


def build_world(seed: int = 11) -> World:
    """The live and past meetings and webinars (deterministic for ``seed``)."""
    now = datetime.now(UTC)
    sc = Scenario(seed=seed, anchor=now.replace(minute=0, second=0, microsecond=0))
    hosts = [sc.user(email=f"host{n}@example.com") for n in range(HOSTS)]
    people = People()
    live: list[Instance] = []
    cancelled: dict[int, list[Registrant]] = {}
    first_live = now - timedelta(hours=7)
    for n in range(LIVE_MEETINGS):
        start = first_live + timedelta(minutes=4 * n)
        meeting = sc.meeting(
            hosts[n % HOSTS], topic=f"Live meeting {n}", participants=MEETING_PEOPLE,
            start=start, duration_min=45, people_offset=people.take(MEETING_PEOPLE),
            recording=True,
        )  # fmt: skip
        live.append(meeting.latest)
    for n in range(LIVE_WEBINARS):
        start = first_live + timedelta(minutes=15 * n + 2)
        web = sc.webinar(
            hosts[n % HOSTS], topic=f"Live webinar {n}", registrants=REGISTRANTS,
            attendees=ATTENDEES, guests=GUESTS, sources=3, start=start, duration_min=60,
            people_offset=people.take(REGISTRANTS + ATTENDEES + GUESTS), recording=True,
        )  # fmt: skip
        cancelled[web.id] = [
            web.add_registrant(sc.person(people.take(1)), status="cancelled")
            for _ in range(CANCELLED)
        ]
        live.append(web.latest)
    past: list[Instance] = []
    first_past = now - timedelta(days=50)
    for n in range(PAST_MEETINGS):
        meeting = sc.meeting(
            hosts[n % HOSTS], topic=f"Past meeting {n}", participants=PAST_PEOPLE,
            start=first_past + timedelta(days=3 * n, hours=n % 5), duration_min=50,
            people_offset=people.take(PAST_PEOPLE),
        )  # fmt: skip
        past.append(meeting.latest)
    for n in range(PAST_WEBINARS):
        web = sc.webinar(
            hosts[n % HOSTS], topic=f"Past webinar {n}", registrants=PAST_REGISTRANTS,
            attendees=PAST_ATTENDEES, sources=2, start=first_past + timedelta(days=5 * n + 1),
            duration_min=60, people_offset=people.take(PAST_REGISTRANTS + PAST_ATTENDEES),
        )  # fmt: skip
        past.append(web.latest)
    return World(
        scenario=sc,
        live=live,
        past=past,
        cancelled=cancelled,
        backfill_from=(first_past - timedelta(days=2)).date(),
        backfill_to=(now - timedelta(days=7)).date(),
    )


# --- the webhooks ------------------------------------------------------------------------------


def live_webinars(world: World) -> list[Webinar]:
    """The live webinars (parents of the live webinar instances)."""
    return [i.parent for i in world.live if isinstance(i.parent, Webinar)]


def registrations(world: World, events: ZoomEvents, rng: random.Random) -> list[bytes]:
    """Stage 1: every registration as created (approved), and some approvals besides."""
    bodies: list[list[bytes]] = []
    for web in live_webinars(world):
        mine = []
        for reg in web.registrants:
            created = dataclasses.replace(reg, status="approved")
            mine.append(encode(events.registration_created(web, created)))
            if rng.random() < 0.1:
                mine.append(encode(events.registration_approved(web, reg)))
        bodies.append(mine)
    return list(interleave(bodies, rng))


def cancellations(world: World, events: ZoomEvents) -> list[bytes]:
    """Stage 2: the cancellations (after their creation was processed)."""
    return [
        encode(events.registration_cancelled(web, reg))
        for web in live_webinars(world)
        for reg in world.cancelled[web.id]
    ]


def meetings(world: World, events: ZoomEvents, rng: random.Random) -> list[bytes]:
    """Stage 3: each live instance's lifecycle; the instances interleaved."""
    return list(interleave([list(lifecycle(inst, events, rng)) for inst in world.live], rng))


def lifecycle(inst: Instance, events: ZoomEvents, rng: random.Random) -> Iterator[bytes]:
    """Started, joins and leaves (one pair in ``REORDER_EVERY`` leave first), ended, two
    recordings."""
    yield encode(events.started(inst))
    rows = [(att, s) for att in inst.attendances() for s in att.sessions]
    for n, (att, session) in enumerate(rows):
        pair = [events.joined(inst, att, session), events.left(inst, att, session)]
        for payload in reversed(pair) if n % REORDER_EVERY == 1 else pair:
            yield encode(payload)
    yield encode(events.ended(inst))
    for token in ("first-token", "second-token"):
        yield encode(events.recording_completed(inst, download_token=f"{token}-{rng.random()}"))


def interleave(streams: list[list[bytes]], rng: random.Random) -> Iterator[bytes]:
    """Merge ``streams`` keeping each one's order, as concurrent meetings interleave."""
    cursors = [0] * len(streams)
    active = [n for n, s in enumerate(streams) if s]
    while active:
        n = rng.choice(active)
        yield streams[n][cursors[n]]
        cursors[n] += 1
        if cursors[n] == len(streams[n]):
            active.remove(n)


def with_repeats(stages: list[list[bytes]], rng: random.Random) -> list[list[Planned]]:
    """Number the deliveries and add Zoom's duplicates up to ``TOTAL_DELIVERIES`` in all."""
    base = sum(len(stage) for stage in stages)
    extra = TOTAL_DELIVERIES - base
    if not 0 < extra <= base * MAX_REPEAT_SHARE:
        raise ValueError(f"{base} webhooks: cannot reach {TOTAL_DELIVERIES} with Zoom's repeats")
    numbered, counter = [], 0
    for stage in stages:
        planned = []
        for body in stage:
            planned.append(Planned(counter, body))
            counter += 1
        numbered.append(planned)
    chosen = rng.sample([p for s in numbered for p in s], extra)
    by_stage: dict[int, list[Planned]] = defaultdict(list)
    stage_of = {p.number: n for n, s in enumerate(numbered) for p in s}
    for k, original in enumerate(chosen):
        repeat = Planned(counter + k, original.body, original.number, same_headers=k % 2 == 0)
        by_stage[stage_of[original.number]].append(repeat)
    return [insert_later(stage, by_stage[n], rng) for n, stage in enumerate(numbered)]


def insert_later(stage: list[Planned], repeats: list[Planned], rng: random.Random) -> list[Planned]:
    """Each repeat placed at a random point after its original within the stage."""
    result = list(stage)
    for repeat in repeats:
        at = next(i for i, p in enumerate(result) if p.number == repeat.repeat_of)
        result.insert(rng.randint(at + 1, min(len(result), at + 200)), repeat)
    return result


def webhook_stages(world: World, seed: int = 3) -> list[list[Planned]]:
    """The three stages, exactly ``TOTAL_DELIVERIES`` deliveries in all."""
    rng = random.Random(seed)
    events = ZoomEvents(account_id=ACCOUNT_ID)
    stages = [registrations(world, events, rng), cancellations(world, events)]
    stages.append(meetings(world, events, rng))
    return with_repeats(stages, rng)


# --- the expected Brevo state ------------------------------------------------------------------


@dataclass
class Person:
    """What the scenario says about one address (lower case) in one instance."""

    sessions: list[Session] = field(default_factory=list)
    registrations: list[Registrant] = field(default_factory=list)

    @property
    def attended(self) -> bool:
        return any(s.status == "in_meeting" and s.leave > s.join for s in self.sessions)

    @property
    def approved(self) -> bool:
        return any(r.status == "approved" for r in self.registrations)


@dataclass
class Expected:
    """What Brevo must hold: contacts, list members, events and e-mails, some attributes."""

    contacts: set[str] = field(default_factory=set)
    lists: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    events: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # name, email, uuid
    emails: Counter[tuple[str, str]] = field(default_factory=Counter)  # email, uuid
    minutes: dict[str, float] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)


def attendee_email(att: Attendance) -> str:
    """The address Zoom reports for an attendance (a webinar's: the registration's)."""
    return (att.registrant.email if att.registrant else att.person.email).lower()


def people_of(inst: Instance, registrants: Iterable[Registrant]) -> dict[str, Person]:
    """Everyone with an address in ``inst``: their sessions and registrations."""
    found: dict[str, Person] = defaultdict(Person)
    for att in inst.attendances():
        if email := attendee_email(att):
            found[email].sessions.extend(att.sessions)
    for reg in registrants:
        found[reg.email.lower()].registrations.append(reg)
    return dict(found)


def expected_state(world: World) -> Expected:
    """Brevo's state once every webhook and the backfill went through."""
    want = Expected()
    for inst in world.live:
        add_instance(want, world, inst, live=True)
    for inst in world.past:
        add_instance(want, world, inst, live=False)
    return want


def add_instance(want: Expected, world: World, inst: Instance, *, live: bool) -> None:
    """One instance's contacts, lists and attributes, and (``live``) its events and e-mails."""
    webinar = isinstance(inst.parent, Webinar)
    regs = list(inst.parent.registrants) if webinar else []
    everyone = people_of(inst, regs)
    for email, person in everyone.items():
        if person.attended:
            want.contacts.add(email)
            want.lists["webinar_attendees" if webinar else "meeting_participants"].add(email)
            want.minutes[email] = union_minutes(tuple(person.sessions))
            if live:
                want.events[("zoom_attended", email, inst.uuid)] += 1
                want.emails[(email, inst.uuid)] += 1
        if not webinar:
            continue
        add_registration(want, inst, email, person, live=live)
        if len({r.tracking_source for r in person.registrations}) == 1:
            source = person.registrations[0].tracking_source if person.registrations else None
            if source is not None:
                want.source[email] = source.source_name


def add_registration(
    want: Expected, inst: Instance, email: str, person: Person, *, live: bool
) -> None:
    """A webinar person's registration: lists, status, events (``live``)."""
    if person.attended:
        want.status[email] = "attended"
    ever_registered = bool(person.registrations) if live else person.approved
    if ever_registered:
        want.contacts.add(email)
        want.lists["webinar_registrants"].add(email)
        want.status.setdefault(email, "absent" if person.approved else "registered")
    if person.approved and not person.attended:
        want.lists["webinar_absentees"].add(email)
    if not live:
        return
    if ever_registered:
        want.events[("zoom_registered", email, "")] += 1
    if person.approved:
        want.events[("zoom_webinar_started", email, inst.uuid)] += 1
        if not person.attended:
            want.events[("zoom_absent", email, inst.uuid)] += 1
            want.emails[(email, inst.uuid)] += 1


def brevo_events(state: Any) -> Counter[tuple[str, str, str]]:
    """The events the Brevo emulator received, as ``(name, email, uuid)``."""
    got: Counter[tuple[str, str, str]] = Counter()
    for event in state.events:
        props = event.event_properties or {}
        uuid = "" if event.event_name == "zoom_registered" else str(props.get("uuid"))
        got[(event.event_name, event.identifiers["email_id"], uuid)] += 1
    return got


def brevo_emails(state: Any) -> Counter[tuple[str, str]]:
    """The template e-mails the Brevo emulator sent, as ``(recipient, uuid)``."""
    got: Counter[tuple[str, str]] = Counter()
    for email in state.emails:
        for to in email.to:
            got[(to, str(email.params.get("UUID")))] += 1
    return got
