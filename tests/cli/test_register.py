"""``zoom-brevo register``: a Brevo list into a Zoom webinar or (``--meeting``) meeting,
against both emulators over loopback HTTP and a real SQLite store. Every behaviour is the
same for both kinds: the tests run for each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import Result, invoke
from zoom_brevo.sandbox.brevo.state import ContactList
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import FormQuestion, Meeting, Scenario, Webinar
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.sandbox.zoom.auth import SCOPES

LEARN = "What would you like to learn?"
MAPPING = f"""\
field_mapping:
  org: COMPANY
  custom_questions:
    "{LEARN}": LEARNING_GOAL
"""


@dataclass
class Box:
    """The sandbox, its URL, a webinar or meeting open for registration and a config file."""

    sandbox: Sandbox
    parent: Meeting | Webinar
    config: Path

    @property
    def kind(self) -> str:
        return "meeting" if isinstance(self.parent, Meeting) else "webinar"

    def ended(self) -> Meeting | Webinar:
        """A webinar or meeting (as ``parent``) that is over."""
        host = self.scenario.users[0]
        if self.kind == "meeting":
            return self.scenario.meeting(host, participants=0, approval_type=0)
        return self.scenario.webinar(host, registrants=0, attendees=0)

    @property
    def scenario(self) -> Scenario:
        return self.sandbox.scenario

    def new_list(self, members: dict[str, dict[str, Any]]) -> int:
        """A Brevo list holding a contact per address, with these attributes."""
        state = self.sandbox.brevo.state
        folder_id = next(iter(state.folders))
        list_id = state.next_id("list")
        state.lists[list_id] = ContactList(list_id, "Webinar sign-ups", folder_id, "2026-01-01")
        for email, attributes in members.items():
            contact = state.contact(email) or state.create_contact(email, attributes, 0.0, None)
            state.link(contact, list_id)
        return list_id

    def zoom_posts(self) -> int:
        calls = self.sandbox.zoom.stats.api_calls("/registrants")
        return sum(1 for c in calls if c.method == "POST")

    def attributes(self, email: str) -> dict[str, Any]:
        contact = self.sandbox.brevo.state.contact(email)
        assert contact is not None
        return dict(contact.attributes)


def open_for_registration(scenario: Scenario, kind: str) -> Meeting | Webinar:
    """A recurring webinar or meeting (three weekly occurrences, the first one past) whose
    form asks the last name and company and requires a custom question."""
    host = scenario.user(email="host@example.com")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=8)
    parent: Meeting | Webinar
    if kind == "meeting":
        parent = scenario.meeting(
            host, topic="Spring launch", participants=0, instances=3, start=start, approval_type=0
        )
    else:
        parent = scenario.webinar(
            host, topic="Spring launch", registrants=0, attendees=0, instances=3, start=start
        )
    parent.form_fields = (("last_name", True), ("org", False))
    parent.form_questions = (FormQuestion(LEARN, required=True),)
    return parent


@contextmanager
def served(scenario: Scenario, tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    """Both emulators serving ``scenario`` and a config file pointing at them."""
    sandbox = build_sandbox(scenario, prepare_brevo=True, brevo_plan="extended")
    with serving(sandbox.app) as base_url:
        config = tmp_path / "zoom-brevo.yaml"
        storage = f"sqlite:///{tmp_path / 'store.db'}"
        text = sandbox_config(base_url, sandbox.list_ids, storage_url=storage)
        text = text.replace("/brevo/v3\n", "/brevo/v3\n  plan: extended\n")
        config.write_text(text + MAPPING, encoding="utf-8")
        yield sandbox, config


@pytest.fixture(params=["webinar", "meeting"])
def box(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Box]:
    scenario = Scenario(seed=11)
    parent = open_for_registration(scenario, request.param)
    with served(scenario, tmp_path) as (sandbox, config):
        yield Box(sandbox, parent, config)


def register(capsys: pytest.CaptureFixture[str], box: Box, *args: str) -> Result:
    """``register ARGS``, with ``--meeting`` when the box holds a meeting."""
    kind = ["--meeting"] if box.kind == "meeting" else []
    return invoke(capsys, ["--config", str(box.config), "register", *args, *kind])


def complete(first: str, last: str, goal: str = "Automation") -> dict[str, Any]:
    return {"FIRSTNAME": first, "LASTNAME": last, "LEARNING_GOAL": goal, "COMPANY": "Acme"}


def test_registers_each_member_and_writes_the_join_link_back(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    list_id = box.new_list(
        {"ada@example.com": complete("Ada", "Lovelace"), "bob@example.com": complete("Bob", "K")}
    )
    result = register(capsys, box, str(box.parent.id), "--list", str(list_id))
    assert result.code == 0, result.err
    assert "2 registered" in result.out
    by_email = {r.email: r for r in box.parent.registrants}
    assert set(by_email) == {"ada@example.com", "bob@example.com"}
    ada = by_email["ada@example.com"]
    assert (ada.first_name, ada.last_name, ada.status) == ("Ada", "Lovelace", "approved")
    assert dict(ada.questions) == {LEARN: "Automation"}
    assert dict(ada.fields)["org"] == "Acme"
    attributes = box.attributes("ada@example.com")
    assert attributes["ZOOM_JOIN_URL"] == ada.join_url
    assert attributes["ZOOM_REGISTRANT_ID"] == ada.id
    now = datetime.now(UTC)  # weekly occurrences, the first of the three is past
    first_upcoming = min(i.start for i in box.parent.instances if i.start > now)
    assert attributes["ZOOM_NEXT_START"] == first_upcoming.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "ada@example.com" not in result.out + result.err


def test_a_second_run_sends_nothing_to_zoom_and_says_already_registered(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    list_id = box.new_list({"ada@example.com": complete("Ada", "Lovelace")})
    first = register(capsys, box, str(box.parent.id), "--list", str(list_id))
    assert first.code == 0, first.err
    assert box.zoom_posts() == 1
    second = register(capsys, box, str(box.parent.id), "--list", str(list_id), "--json")
    assert second.code == 0, second.err
    document = json.loads(second.out)
    assert box.zoom_posts() == 1  # zero POSTs on the second run
    assert document["zoom_registrations_sent"] == 0
    assert document["counts"]["already_registered"] == 1
    (contact,) = document["contacts"]
    assert contact["outcome"] == "already_registered"
    assert contact["registrant_id"] == box.parent.registrants[0].id
    assert len(box.parent.registrants) == 1


def test_a_missing_required_field_is_named_and_nothing_is_sent(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    no_last = {"FIRSTNAME": "Cy", "LEARNING_GOAL": "Reporting"}
    no_goal = {"FIRSTNAME": "Di", "LASTNAME": "Ng"}
    list_id = box.new_list({"cy@example.com": no_last, "di@example.com": no_goal})
    result = register(capsys, box, str(box.parent.id), "--list", str(list_id), "--json")
    assert result.code == 0, result.err
    contacts = {c["contact_id"]: c for c in json.loads(result.out)["contacts"]}
    cy = box.sandbox.brevo.state.contact("cy@example.com")
    di = box.sandbox.brevo.state.contact("di@example.com")
    assert cy is not None and di is not None
    assert contacts[cy.id]["outcome"] == "missing_fields"
    assert contacts[cy.id]["missing"] == ["last_name (LASTNAME is empty)"]
    assert contacts[di.id]["missing"] == [f"custom question {LEARN!r} (LEARNING_GOAL is empty)"]
    assert box.zoom_posts() == 0
    text = register(capsys, box, str(box.parent.id), "--list", str(list_id))
    assert "missing last_name (LASTNAME is empty)" in text.out


def test_a_denied_or_cancelled_person_is_reported_blocked_without_a_post(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    person = box.scenario.new_person("eve@example.com", "Eve", "Denied")
    box.parent.add_registrant(person, status="denied")
    list_id = box.new_list({"eve@example.com": complete("Eve", "Denied")})
    result = register(capsys, box, str(box.parent.id), "--list", str(list_id))
    assert result.code == 0, result.err
    assert "1 not sent: denied or cancelled in Zoom" in result.out
    assert box.zoom_posts() == 0
    assert "ZOOM_JOIN_URL" not in box.attributes("eve@example.com")


def test_manual_approval_leaves_people_pending_without_a_join_link(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    box.parent.approval_type = 1
    list_id = box.new_list({"fay@example.com": complete("Fay", "Pending")})
    result = register(capsys, box, str(box.parent.id), "--list", str(list_id), "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["approval_required"] is True
    assert document["counts"]["pending"] == 1
    (registrant,) = box.parent.registrants
    assert registrant.status == "pending"
    attributes = box.attributes("fay@example.com")
    assert attributes["ZOOM_REGISTRANT_ID"] == registrant.id
    assert "ZOOM_JOIN_URL" not in attributes


def test_zooms_daily_limit_per_person_fails_that_person_and_exits_1(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    day = datetime.now(UTC).date().isoformat()
    box.parent.registration_requests[("gus@example.com", day)] = 3
    list_id = box.new_list(
        {"gus@example.com": complete("Gus", "Limit"), "hal@example.com": complete("Hal", "Ok")}
    )
    result = register(capsys, box, str(box.parent.id), "--list", str(list_id))
    assert result.code == 1
    assert "1 registered" in result.out
    assert "after 00:00 UTC" in result.out
    assert "1 registration(s) failed" in result.err
    assert [r.email for r in box.parent.registrants] == ["hal@example.com"]


def test_registration_off_stops_before_anyone_is_sent(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    box.parent.approval_type = 2
    list_id = box.new_list({"ada@example.com": complete("Ada", "Lovelace")})
    result = register(capsys, box, str(box.parent.id), "--list", str(list_id))
    assert result.code == 1
    assert f"Registration is not enabled on {box.kind} {box.parent.id}" in result.err
    assert box.zoom_posts() == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["123", "--list", "LIST"], 1, "Zoom has no KIND 123"),
        (["ID", "--list", "999"], 1, "Brevo has no contact list 999"),
        (["abc", "--list", "LIST"], 2, "Invalid value for 'ID'"),
        (["ID", "--list", "x"], 2, "Invalid value for '--list'"),
        (["ID"], 2, "Missing option '--list'"),
        (["ID", "--list", "LIST", "--occurrence", "42"], 1, "has no occurrence 42"),
        (["0", "--list", "LIST"], 2, "must be a KIND number"),
    ],
)
def test_bad_input_gets_a_clear_message_and_a_non_zero_exit(
    box: Box, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    list_id = box.new_list({"ada@example.com": complete("Ada", "Lovelace")})
    filled = [a.replace("ID", str(box.parent.id)).replace("LIST", str(list_id)) for a in args]
    result = register(capsys, box, *filled)
    assert result.code == code, result.err
    assert message.replace("KIND", box.kind) in result.err
    assert len(result.err_lines) == 1
    assert box.zoom_posts() == 0


def test_one_occurrence_is_registered_once_and_the_others_stay_open(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    upcoming = [i.start for i in box.parent.instances if i.start > now]
    occurrence = str(int(upcoming[-1].timestamp() * 1000))
    list_id = box.new_list({"ada@example.com": complete("Ada", "Lovelace")})
    args = [str(box.parent.id), "--list", str(list_id), "--occurrence", occurrence, "--json"]
    first = json.loads(register(capsys, box, *args).out)
    again = json.loads(register(capsys, box, *args).out)
    assert first["counts"]["registered"] == 1
    assert again["counts"]["already_registered"] == 1
    posts = [c for c in box.sandbox.zoom.stats.api_calls("/registrants") if c.method == "POST"]
    assert [c.query.get("occurrence_ids") for c in posts] == [occurrence]
    every = json.loads(
        register(capsys, box, str(box.parent.id), "--list", str(list_id), "--json").out
    )
    assert every["counts"]["registered"] == 1  # all occurrences is another registration
    assert box.attributes("ada@example.com")["ZOOM_NEXT_START"] == upcoming[0].strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_a_write_back_lost_after_registering_is_written_by_the_next_run(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    list_id = box.new_list({"ada@example.com": complete("Ada", "Lovelace")})
    assert register(capsys, box, str(box.parent.id), "--list", str(list_id)).code == 0
    contact = box.sandbox.brevo.state.contact("ada@example.com")
    assert contact is not None
    for name in ("ZOOM_JOIN_URL", "ZOOM_REGISTRANT_ID", "ZOOM_NEXT_START"):
        contact.attributes.pop(name)  # as if the run had stopped before writing them
    result = register(capsys, box, str(box.parent.id), "--list", str(list_id))
    assert "1 already registered (no Zoom call)" in result.out
    assert box.zoom_posts() == 1
    (registrant,) = box.parent.registrants
    attributes = box.attributes("ada@example.com")
    assert attributes["ZOOM_REGISTRANT_ID"] == registrant.id
    assert attributes["ZOOM_JOIN_URL"] == registrant.join_url


def test_an_app_without_the_write_scope_is_told_which_scope_to_add(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    box.sandbox.zoom.oauth.scopes = SCOPES  # read scopes only
    list_id = box.new_list({"ada@example.com": complete("Ada", "Lovelace")})
    result = register(capsys, box, str(box.parent.id), "--list", str(list_id))
    assert result.code == 1
    assert f"{box.kind}:write:admin" in result.err
    assert len(result.err_lines) == 1
    assert len(box.parent.registrants) == 0


def test_an_ended_one_stops_the_run_at_zooms_first_refusal(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    ended = box.ended()
    list_id = box.new_list(
        {"ada@example.com": complete("Ada", "Lovelace"), "bob@example.com": complete("Bob", "K")}
    )
    result = register(capsys, box, str(ended.id), "--list", str(list_id))
    assert result.code == 1
    assert f"{box.kind.capitalize()} {ended.id} is over" in result.err
    assert len(result.err_lines) == 1
    assert box.zoom_posts() == 1  # the first refusal ends the run


@pytest.mark.parametrize("flag", [True, False])
def test_a_number_of_the_other_kind_is_named_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: bool
) -> None:
    """A webinar's number given with --meeting, or a meeting's without: no traceback, no
    registration, and the message says what the number is."""
    scenario = Scenario(seed=11)
    parent = open_for_registration(scenario, "webinar" if flag else "meeting")
    with served(scenario, tmp_path) as (_, config):
        args = ["--config", str(config), "register", str(parent.id), "--list", "1"]
        result = invoke(capsys, [*args, "--meeting"] if flag else args)
    said = "a Zoom webinar, not a meeting" if flag else "a Zoom meeting, not a webinar"
    assert result.code == 1
    assert f"{parent.id} is {said}" in result.err
    assert len(result.err_lines) == 1
    assert len(parent.registrants) == 0


@pytest.mark.parametrize(
    ("meeting_type", "what"),
    [(1, "an instant"), (3, "a recurring, no fixed time,"), (4, "a personal ID")],
)
def test_a_meeting_zoom_cannot_register_into_is_refused_before_any_post(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], meeting_type: int, what: str
) -> None:
    scenario = Scenario(seed=11)
    meeting = open_for_registration(scenario, "meeting")
    meeting.type = meeting_type
    with served(scenario, tmp_path) as (_, config):
        args = ["--config", str(config), "register", str(meeting.id), "--list", "1", "--meeting"]
        result = invoke(capsys, args)
    assert result.code == 1
    assert f"Meeting {meeting.id} is {what} meeting" in result.err
    assert "scheduled meeting or a recurring meeting with a fixed time" in result.err
    assert len(result.err_lines) == 1
    assert len(meeting.registrants) == 0


def test_a_full_one_stops_the_run_and_keeps_who_was_registered(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    box.parent.registration_capacity = 1
    list_id = box.new_list(
        {"ada@example.com": complete("Ada", "Lovelace"), "bob@example.com": complete("Bob", "K")}
    )
    result = register(capsys, box, str(box.parent.id), "--list", str(list_id))
    assert result.code == 1
    assert f"{box.kind.capitalize()} {box.parent.id} is full" in result.err
    assert len(result.err_lines) == 1
    assert [r.email for r in box.parent.registrants] == ["ada@example.com"]
    assert box.attributes("ada@example.com")["ZOOM_REGISTRANT_ID"]
