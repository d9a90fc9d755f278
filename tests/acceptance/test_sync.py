"""``zoom-brevo sync meeting|webinar`` end to end: the CLI against the combined sandbox.

The expected Brevo state is computed here, independently of the product, from the
scenario itself: a small interval union of its own, the documented score formula
(docs/engagement.md 4) and the mapping rules (docs/engagement.md 5). Then every sync runs
a second time: Brevo must not change and no event may be sent twice.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import Result, invoke
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import Instance, Meeting, Scenario, Session, Webinar
from zoom_brevo.sandbox.serving import serving

EXCLUDED_DOMAIN = "example.net"
MEETING_A_UUID = "/rEc//uRring+Uuid=="  # starts with "/" and holds "//": double encoding
MEETING_B_UUID = "one//off+Uuid=="


# --- the world -----------------------------------------------------------------------------


@dataclass
class World:
    """The scenario and the objects the test names."""

    scenario: Scenario
    recurring: Meeting
    one_off: Meeting
    webinar: Webinar


def build_world() -> World:
    sc = Scenario(seed=7, anchor=datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    host = sc.user(email="host@example.com")
    recurring = sc.meeting(
        host, topic="Weekly sync", uuid=MEETING_A_UUID, participants=20, instances=3
    )
    _hand_made_attendees(sc, recurring.latest)
    # Real instances rarely keep to the schedule: one ends early, the webinar overruns.
    one_off = sc.meeting(host, topic="Kick-off", uuid=MEETING_B_UUID, participants=12,
                         people_offset=15, overrun_min=-12)  # fmt: skip
    webinar = sc.webinar(host, topic="Launch webinar", registrants=24, attendees=14, guests=3,
                         sources=2, people_offset=40, qa=True, polls=True,
                         overrun_min=9)  # fmt: skip
    return World(sc, recurring, one_off, webinar)


def _hand_made_attendees(sc: Scenario, inst: Instance) -> None:
    """Every awkward case at least once, whatever the seed draws."""
    t = inst.start
    m = timedelta(minutes=1)
    rejoiner = sc.new_person("rejoin.er@example.com", "Rita", "Rejoin")
    inst.add_attendee(rejoiner, [(t, t + 10 * m), (t + 20 * m, t + 35 * m)])
    two_devices = sc.new_person("two.devices@example.org", "Tom", "Devices")
    inst.add_attendee(two_devices, [(t + 5 * m, t + 30 * m), (t + 10 * m, t + 40 * m)])
    waiter = sc.new_person("wait.ing@example.com", "Wanda", "Waiting")
    inst.add_attendee(waiter, [
        Session(t - 3 * m, t + 2 * m, "70000001", status="in_waiting_room"),
        Session(t + 2 * m, t + 50 * m, "70000002"),
    ])  # fmt: skip
    only_waited = sc.new_person("only.waited@example.com", "Otto", "Waited")
    inst.add_attendee(only_waited, [Session(t, t + 9 * m, "70000003", status="in_waiting_room")])
    inst.add_attendee(sc.new_person("", "iPhone", ""), [(t, t + 20 * m)])
    inst.add_attendee(sc.new_person("", "Guest", ""), [(t + 3 * m, t + 4 * m)])
    upper = sc.new_person("Mixed.Case@Example.com", "Max", "Case")
    lower = sc.new_person("mixed.case@example.com", "Max", "Case")
    inst.add_attendee(upper, [(t + 30 * m, t + 45 * m)])
    inst.add_attendee(lower, [(t + 40 * m, t + 55 * m)])
    inst.add_attendee(sc.new_person("someone@eu.example.net", "Ex", "Cluded"), [(t, t + 30 * m)])


# --- the expected Brevo state, computed independently ------------------------------------


def union_seconds(intervals: list[tuple[datetime, datetime]]) -> tuple[float, datetime, datetime]:
    """Length of the union in seconds, its first start and its last end."""
    spans = sorted((a, b) for a, b in intervals if b > a)
    total, first, last = 0.0, spans[0][0], spans[0][1]
    cur_a, cur_b = spans[0]
    for a, b in spans[1:]:
        if a <= cur_b:
            cur_b = max(cur_b, b)
        else:
            total += (cur_b - cur_a).total_seconds()
            cur_a, cur_b = a, b
    total += (cur_b - cur_a).total_seconds()
    last = max(b for _, b in spans)
    return total, first, last


def usable(email: str) -> bool:
    """What Brevo may receive: an address, not in an excluded or a reserved (.test) domain."""
    domain = email.rsplit("@", 1)[-1]
    excluded = domain == EXCLUDED_DOMAIN or domain.endswith("." + EXCLUDED_DOMAIN)
    return bool(email) and not excluded and not domain.endswith(".test")


@dataclass
class Visit:
    """One person's attendance in one instance."""

    uuid: str
    minutes: float
    ratio: float
    first_join: datetime
    last_leave: datetime


@dataclass
class Expected:
    """Contacts (attributes), list members, events; plus the raw engagement inputs."""

    attributes: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    lists: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    events: set[tuple[str, str, str]] = field(default_factory=set)
    visits: dict[str, list[Visit]] = field(default_factory=lambda: defaultdict(list))
    absences: dict[str, int] = field(default_factory=Counter)
    participations: dict[str, int] = field(default_factory=Counter)
    latest: dict[str, tuple[datetime, dict[str, Any]]] = field(default_factory=dict)
    status: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    occurrence: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    def own_status(self, email: str, inst: Instance, status: str) -> None:
        """ATTENDANCE_STATUS is one attribute for meetings and webinars: the latest owns it."""
        held = self.status.get(email)
        if held is None or inst.start > held[0]:
            self.status[email] = (inst.start, status)

    def attend(self, email: str, inst: Instance, visit: Visit) -> None:
        """Count a visit; the instance that started last owns the per-instance attributes."""
        self.visits[email].append(visit)
        held = self.latest.get(email)
        if held is None or inst.start > held[0]:
            self.latest[email] = (inst.start, _visit_attributes(visit))
        # The last occurrence attended of a recurring one: its scheduled start in ms.
        last = self.occurrence.get(email)
        if len(inst.parent.instances) > 1 and (last is None or inst.start > last[0]):
            ms = round((inst.scheduled_start - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
            self.occurrence[email] = (inst.start, f"{ms}000")

    def contact(self, email: str) -> dict[str, Any]:
        """Every attribute the contact should hold but the engagement aggregates."""
        visit = self.latest.get(email)
        status = self.status.get(email)
        owned = {"ATTENDANCE_STATUS": status[1]} if status else {}
        if email in self.occurrence:
            owned["ZOOM_LAST_OCCURRENCE"] = self.occurrence[email][1]
        return {**self.attributes[email], **(visit[1] if visit else {}), **owned}


def visits_of(inst: Instance) -> dict[str, Visit]:
    """Per lower-cased email: the union of the in-meeting sessions, cut to the instance."""
    sessions: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for att, s in inst.sessions():
        email = (att.registrant.email if att.registrant else att.person.email).lower()
        if email and s.status == "in_meeting":
            sessions[email].append((max(s.join, inst.start), min(s.leave, inst.end)))
    span = (inst.end - inst.start).total_seconds()
    found = {}
    for email, intervals in sessions.items():
        seconds, first, last = union_seconds(intervals)
        if seconds > 0:
            found[email] = Visit(inst.uuid, seconds / 60, min(1.0, seconds / span), first, last)
    return found


def names_of(inst: Instance) -> dict[str, tuple[str, str]]:
    return {
        (a.registrant.email if a.registrant else a.person.email).lower(): (
            a.person.first_name,
            a.person.last_name,
        )
        for a in inst.attendances()
    }


def expect_meeting(exp: Expected, meeting: Meeting, list_id: int) -> None:
    for inst in meeting.instances:
        names = names_of(inst)
        for email, visit in visits_of(inst).items():
            if not usable(email):
                continue
            first, last = names[email]
            exp.attend(email, inst, visit)
            exp.own_status(email, inst, "attended")  # the connector spec sets it for meetings
            exp.attributes[email].update(FIRSTNAME=first, LASTNAME=last)
            exp.lists[str(list_id)].add(email)
            exp.events.add(("zoom_attended", email, inst.uuid))


def _visit_attributes(visit: Visit) -> dict[str, Any]:
    return {
        "MEETING_JOIN_DATE": visit.first_join.date().isoformat(),
        "MEETING_DURATION": round(visit.minutes, 1),
        "ZOOM_ATTENDANCE_RATIO": round(visit.ratio, 3),
        # the ratio as sent, as a whole percentage, half up (docs/engagement.md)
        "ZOOM_ATTENDANCE_PERCENT": int(
            (Decimal(str(round(visit.ratio, 3))) * 100).quantize(Decimal(1), ROUND_HALF_UP)
        ),
    }


def expect_webinar(exp: Expected, webinar: Webinar, list_ids: dict[str, int]) -> None:
    inst = webinar.latest
    visits = visits_of(inst)
    registrants = {r.email.lower(): r for r in webinar.registrants if r.status == "approved"}
    names = names_of(inst)
    for email in set(visits) | set(registrants):
        if not usable(email):
            continue
        attrs = exp.attributes[email]
        reg = registrants.get(email)
        attrs["WEBINAR_NAME"] = webinar.topic
        if reg:
            attrs.update(FIRSTNAME=reg.first_name, LASTNAME=reg.last_name)
            exp.lists[str(list_ids["webinar_registrants"])].add(email)
            if reg.tracking_source:
                attrs["UTM_SOURCE"] = reg.tracking_source.source_name
        if email in visits:
            first, last = names[email]
            if not reg:
                attrs.update(FIRSTNAME=first, LASTNAME=last)
            exp.own_status(email, inst, "attended")
            exp.attend(email, inst, visits[email])
            exp.lists[str(list_ids["webinar_attendees"])].add(email)
            exp.events.add(("zoom_attended", email, inst.uuid))
        else:
            exp.own_status(email, inst, "absent")
            exp.absences[email] += 1
            exp.lists[str(list_ids["webinar_absentees"])].add(email)
            exp.events.add(("zoom_absent", email, inst.uuid))
    for person, _ in [*inst.qa(), *inst.poll_answers()]:
        if person.email:
            exp.participations[person.email.lower()] += 1


def expected_engagement(exp: Expected, email: str, now: datetime) -> dict[str, Any]:
    """The documented aggregates and score (docs/engagement.md 4)."""
    visits = exp.visits.get(email, [])
    absences = exp.absences.get(email, 0)
    ratios = [v.ratio for v in visits] + [0.0] * absences
    n = len(visits)
    q = exp.participations.get(email, 0)
    a = sum(ratios) / len(ratios) if ratios else 0.0
    values: dict[str, Any] = {"ZOOM_MEETINGS_ATTENDED": n}
    recency = 0.0
    if visits:
        last = max(v.last_leave for v in visits)
        values["ZOOM_TOTAL_MINUTES"] = round(sum(v.minutes for v in visits), 1)
        values["ZOOM_LAST_ATTENDED"] = last.date().isoformat()
        recency = 0.5 ** ((now.date() - last.astimezone(UTC).date()).days / 30)
    else:
        values["ZOOM_TOTAL_MINUTES"] = 0.0
    score = 40 * a + 25 * n / (n + 3) + 20 * recency + 15 * q / (q + 2)
    values["ZOOM_ENGAGEMENT_SCORE"] = float(math.floor(score + 0.5))  # whole points, half up
    return values


# --- running the CLI --------------------------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[tuple[Sandbox, World, str]]:
    world = build_world()
    box = build_sandbox(world.scenario, prepare_brevo=True)
    with serving(box.app) as base_url:
        yield box, world, base_url


def _config(tmp_path: Path, base_url: str, list_ids: dict[str, int]) -> Path:
    text = sandbox_config(base_url, list_ids, storage_url=f"sqlite:///{tmp_path / 'store.db'}")
    text = text.replace("    lists:", f"    exclude_domains: [{EXCLUDED_DOMAIN}]\n    lists:")
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _sync(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> dict[str, Any]:
    result: Result = invoke(capsys, ["--config", str(config), "sync", *args, "--json"])
    assert result.code == 0, result.err
    document: dict[str, Any] = json.loads(result.out)
    return document


def brevo_snapshot(box: Sandbox) -> dict[str, Any]:
    state = box.brevo.state
    contacts = {c.email: dict(c.attributes) for c in state.contacts.values()}
    lists = {str(i): {c.email for c in state.members(i)} for i in state.lists}
    return {"contacts": contacts, "lists": {k: v for k, v in lists.items() if v}}


def recorded_events(box: Sandbox) -> list[tuple[str, str, str]]:
    return [
        (e.event_name, e.identifiers["email_id"], (e.event_properties or {}).get("uuid", ""))
        for e in box.brevo.state.events
    ]


@pytest.mark.parametrize("order", ["as_listed", "reversed"])
def test_sync_puts_exactly_the_expected_contacts_lists_and_events_in_brevo_once(
    sandbox: tuple[Sandbox, World, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    order: str,
) -> None:
    """In whatever order the syncs run, Brevo ends in the same, expected state."""
    box, world, base_url = sandbox
    list_ids = dict(box.list_ids)
    config = _config(tmp_path, base_url, list_ids)
    recurring = ("meeting", str(world.recurring.id))  # every instance of the meeting
    one_off = ("meeting", MEETING_B_UUID)  # one instance, by a UUID needing double encoding
    webinar = ("webinar", str(world.webinar.id))
    runs = [recurring, one_off, webinar]
    if order == "reversed":
        runs.reverse()
    first = {run: _sync(capsys, config, *run) for run in runs}

    exp = Expected()
    expect_meeting(exp, world.recurring, list_ids["meeting_participants"])
    expect_meeting(exp, world.one_off, list_ids["meeting_participants"])
    expect_webinar(exp, world.webinar, list_ids)
    now = datetime.now(UTC)
    snapshot = brevo_snapshot(box)

    assert set(snapshot["contacts"]) == set(exp.attributes)
    for email in exp.attributes:
        held = dict(snapshot["contacts"][email])
        wanted = {**exp.contact(email), **expected_engagement(exp, email, now)}
        score = wanted.pop("ZOOM_ENGAGEMENT_SCORE")
        assert held.pop("ZOOM_ENGAGEMENT_SCORE") == pytest.approx(score, abs=0.11), email
        assert held == wanted, email
    assert snapshot["lists"] == {k: v for k, v in exp.lists.items() if v}
    events = recorded_events(box)
    assert Counter(events) == Counter(exp.events)  # each expected event exactly once

    guests = first[recurring]["skipped_by_reason"]
    assert guests["no_email"] >= 2 and guests["excluded_domain"] >= 1
    assert first[recurring]["instances"] == 3 and first[one_off]["instances"] == 1
    assert first[webinar]["absentees"] == len(world.webinar.registrants) - world.webinar.attendees

    second = [_sync(capsys, config, *run) for run in runs]
    again = brevo_snapshot(box)
    for email, held in again["contacts"].items():
        before = snapshot["contacts"][email]
        assert held.pop("ZOOM_ENGAGEMENT_SCORE") == pytest.approx(
            before.pop("ZOOM_ENGAGEMENT_SCORE", None), abs=0.11
        )
        assert held == before
    assert again["lists"] == snapshot["lists"]
    assert recorded_events(box) == events  # not one event more
    assert all(doc["events_queued"] == 0 for doc in second)
    assert sum(doc["events_already_sent"] for doc in second) == len(exp.events)
    assert all(doc["delivery"]["events_sent"] == 0 for doc in second)


def test_no_events_updates_contacts_but_sends_no_event(
    sandbox: tuple[Sandbox, World, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box, _, base_url = sandbox
    config = _config(tmp_path, base_url, dict(box.list_ids))
    document = _sync(capsys, config, "meeting", MEETING_B_UUID, "--no-events")
    assert document["contacts"] > 0
    assert document["events_queued"] == 0
    assert box.brevo.state.events == []
    assert len(box.brevo.state.contacts) == document["contacts"]


def test_the_table_says_what_was_done(
    sandbox: tuple[Sandbox, World, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box, _, base_url = sandbox
    config = _config(tmp_path, base_url, dict(box.list_ids))
    result = invoke(capsys, ["--config", str(config), "sync", "meeting", MEETING_B_UUID])
    assert result.code == 0, result.err
    for label in ("Instances", "Participant rows", "People", "Contacts", "List additions",
                  "Events sent", "Guests skipped", "Zoom calls", "Brevo calls"):  # fmt: skip
        assert label in result.out


def test_an_unknown_meeting_fails_with_one_line_and_exit_1(
    sandbox: tuple[Sandbox, World, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box, _, base_url = sandbox
    config = _config(tmp_path, base_url, dict(box.list_ids))
    result = invoke(capsys, ["--config", str(config), "sync", "meeting", "no//such+uuid=="])
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "Zoom" in result.err


@pytest.mark.parametrize("newest_first", [True, False], ids=["newest-first", "oldest-first"])
def test_two_webinars_leave_the_newest_values_in_each_contact_in_either_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], newest_first: bool
) -> None:
    """A backfill of an older webinar after the newer one was synced changes no per-webinar
    attribute of someone in both: the newer webinar's title, status and visit stay, and the
    source is the newest one known (a registration without a source blanks nothing)."""
    anchor = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    sc = Scenario(seed=11, anchor=anchor)
    host = sc.user(email="host@example.com")
    older = sc.webinar(host, topic="Older webinar", registrants=16, attendees=12, sources=2,
                       start=anchor - timedelta(days=14))  # fmt: skip
    newer = sc.webinar(host, topic="Newer webinar", registrants=16, attendees=5, sources=1,
                       start=anchor - timedelta(days=2))  # fmt: skip
    box = build_sandbox(sc, prepare_brevo=True)
    with serving(box.app) as base_url:
        config = _config(tmp_path, base_url, dict(box.list_ids))
        for webinar in (newer, older) if newest_first else (older, newer):
            _sync(capsys, config, "webinar", str(webinar.id))
    contacts = brevo_snapshot(box)["contacts"]

    expected: dict[str, dict[str, Any]] = defaultdict(dict)
    for webinar in (older, newer):  # oldest first: the newer one's values overwrite
        visits = visits_of(webinar.latest)
        for reg in webinar.registrants:
            email = reg.email.lower()
            if reg.status != "approved" or not usable(email):
                continue
            wanted = expected[email]
            wanted["WEBINAR_NAME"] = webinar.topic
            wanted["ATTENDANCE_STATUS"] = "attended" if email in visits else "absent"
            if reg.tracking_source:
                wanted["UTM_SOURCE"] = reg.tracking_source.source_name
            if email in visits:
                wanted.update(_visit_attributes(visits[email]))
    emails = [{r.email.lower() for r in w.registrants} for w in (older, newer)]
    both = emails[0] & emails[1] & set(expected)
    assert len(both) >= 10  # the case under test is well represented
    attended_older_only = [e for e in both if expected[e]["ATTENDANCE_STATUS"] == "absent"
                           and "MEETING_DURATION" in expected[e]]  # fmt: skip
    assert attended_older_only  # their visit attributes come from the older webinar
    sourced_older_only = [e for e in both if reg_source(newer, e) is None
                          and reg_source(older, e) is not None]  # fmt: skip
    assert sourced_older_only  # their source comes from the older webinar
    for email, wanted in expected.items():
        held = contacts[email]
        assert {k: held.get(k) for k in wanted} == wanted, email


def reg_source(webinar: Webinar, email: str) -> str | None:
    """The tracking source of ``email``'s registration to ``webinar``, if any."""
    for reg in webinar.registrants:
        if reg.email.lower() == email and reg.tracking_source:
            return reg.tracking_source.source_name
    return None
