"""The emulated registration endpoints, webinars' and meetings', answer as Zoom's spec
documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.sandbox.test_zoom_emulator import Clock, s2s_token
from zoom_brevo.sandbox.scenario import FormQuestion, Meeting, Scenario, Webinar
from zoom_brevo.sandbox.zoom import ZoomEmulator

ANCHOR = datetime(2026, 6, 1, 12, tzinfo=UTC)
LEARN = "What would you like to learn?"


@pytest.fixture
def scenario() -> Scenario:
    return Scenario(seed=3, anchor=ANCHOR)


@pytest.fixture(params=["webinar", "meeting"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each behaviour below holds for webinars and meetings alike."""
    return str(request.param)


def upcoming(
    sc: Scenario, kind: str = "webinar", *, weeks: int = 1, approval_type: int = 0, **options: Any
) -> Meeting | Webinar:
    """A parent or meeting whose latest occurrence starts ``weeks`` weeks after the anchor."""
    host = sc.users[0] if sc.users else sc.user(email="host@example.com")
    start = ANCHOR + timedelta(days=7 * weeks)
    if kind == "meeting":
        meeting = sc.meeting(host, participants=0, start=start, **options)
        meeting.approval_type = approval_type
        return meeting
    found = sc.webinar(host, registrants=0, attendees=0, start=start, **options)
    found.approval_type = approval_type
    return found


@pytest.fixture
async def client(scenario: Scenario) -> AsyncIterator[httpx.AsyncClient]:
    emu = ZoomEmulator(scenario=scenario, clock=Clock(ANCHOR))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://zoom.test"
    ) as c:
        c.headers["Authorization"] = f"Bearer {await s2s_token(c)}"
        yield c


def _path(parent: Meeting | Webinar) -> str:
    noun = "meetings" if isinstance(parent, Meeting) else "webinars"
    return f"/v2/{noun}/{parent.id}/registrants"


async def test_a_registration_answers_201_with_the_join_url_and_is_listed(
    scenario: Scenario, client: httpx.AsyncClient, kind: str
) -> None:
    parent = upcoming(scenario, kind, topic="Launch")
    body = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    r = await client.post(_path(parent), json=body)
    assert r.status_code == 201, r.text
    answer = r.json()
    assert set(answer) == {"id", "registrant_id", "topic", "start_time", "join_url"}
    assert answer["id"] == parent.id
    assert answer["topic"] == "Launch"
    assert answer["start_time"] == "2026-06-08T12:00:00Z"
    listed = (await client.get(_path(parent))).json()["registrants"]
    assert [(x["email"], x["id"], x["status"]) for x in listed] == [
        ("ada@example.com", answer["registrant_id"], "approved")
    ]
    assert listed[0]["join_url"] == answer["join_url"]


async def test_registering_again_answers_the_same_registration(
    scenario: Scenario, client: httpx.AsyncClient, kind: str
) -> None:
    parent = upcoming(scenario, kind)
    body = {"email": "ada@example.com", "first_name": "Ada"}
    first = (await client.post(_path(parent), json=body)).json()
    second = (await client.post(_path(parent), json=body | {"email": "ADA@example.com"})).json()
    assert second["registrant_id"] == first["registrant_id"]
    assert len(parent.registrants) == 1


async def test_a_recurring_webinar_lists_its_upcoming_occurrences(
    scenario: Scenario, client: httpx.AsyncClient, kind: str
) -> None:
    parent = upcoming(scenario, kind, weeks=3, instances=4)  # weekly: the first one is past
    r = await client.post(_path(parent), json={"email": "a@example.com", "first_name": "A"})
    occurrences = r.json()["occurrences"]
    assert [o["start_time"] for o in occurrences] == [
        "2026-06-08T12:00:00Z",
        "2026-06-15T12:00:00Z",
        "2026-06-22T12:00:00Z",
    ]
    assert r.json()["start_time"] == "2026-06-08T12:00:00Z"
    assert set(occurrences[0]) == {"occurrence_id", "start_time", "duration", "status"}


async def test_an_unknown_occurrence_is_3001(
    scenario: Scenario, client: httpx.AsyncClient, kind: str
) -> None:
    parent = upcoming(scenario, kind, instances=2)
    r = await client.post(
        _path(parent),
        params={"occurrence_ids": "123"},
        json={"email": "a@example.com", "first_name": "A"},
    )
    assert r.status_code == 404
    assert r.json()["code"] == 3001


async def test_questions_list_the_form_and_what_is_required(
    scenario: Scenario, client: httpx.AsyncClient, kind: str
) -> None:
    parent = upcoming(scenario, kind)
    parent.form_fields = (("last_name", True), ("org", False))
    parent.form_questions = (FormQuestion(LEARN, required=True),)
    r = await client.get(f"{_path(parent)}/questions")
    assert r.status_code == 200
    assert r.json() == {
        "questions": [
            {"field_name": "last_name", "required": True},
            {"field_name": "org", "required": False},
        ],
        "custom_questions": [{"title": LEARN, "type": "short", "required": True, "answers": []}],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com", "first_name": "A", "custom_questions": []}, "last_name"),
        ({"email": "a@example.com", "first_name": "A", "last_name": "B"}, "custom_questions"),
        ({"email": "a@example.com"}, "first_name"),
        ({"first_name": "A"}, "email"),
    ],
)
async def test_a_missing_required_answer_is_a_validation_error_naming_it(
    scenario: Scenario, client: httpx.AsyncClient, kind: str, body: dict[str, object], field: str
) -> None:
    parent = upcoming(scenario, kind)
    parent.form_fields = (("last_name", True),)
    parent.form_questions = (FormQuestion(LEARN, required=True),)
    r = await client.post(_path(parent), json=body)
    assert r.status_code == 400
    assert r.json()["code"] == 300
    assert r.json()["errors"][0]["field"] == field
    assert len(parent.registrants) == 0


async def test_a_denied_address_cannot_register_again(
    scenario: Scenario, client: httpx.AsyncClient, kind: str
) -> None:
    parent = upcoming(scenario, kind)
    parent.add_registrant(scenario.new_person("no@example.com"), status="denied")
    r = await client.post(_path(parent), json={"email": "no@example.com", "first_name": "N"})
    assert r.status_code == 400
    assert r.json()["code"] == 3000
    denied = (await client.get(_path(parent), params={"status": "denied"})).json()
    assert [x["email"] for x in denied["registrants"]] == ["no@example.com"]


async def test_manual_approval_keeps_the_registrant_pending(
    scenario: Scenario, client: httpx.AsyncClient, kind: str
) -> None:
    parent = upcoming(scenario, kind, approval_type=1)
    r = await client.post(_path(parent), json={"email": "p@example.com", "first_name": "P"})
    assert r.status_code == 201
    # meetingRegistrantCreate returns no join_url under manual approval; the webinar's does
    assert ("join_url" in r.json()) is (kind == "webinar")
    got = await client.get(_path(parent).removesuffix("/registrants"))
    assert got.json()["settings"]["approval_type"] == 1
    pending = (await client.get(_path(parent), params={"status": "pending"})).json()
    assert [x["email"] for x in pending["registrants"]] == ["p@example.com"]
    assert (await client.get(_path(parent))).json()["registrants"] == []


async def test_registration_off_is_3000_on_both_endpoints(
    scenario: Scenario, client: httpx.AsyncClient, kind: str
) -> None:
    parent = upcoming(scenario, kind, approval_type=2)
    posted = await client.post(_path(parent), json={"email": "a@example.com", "first_name": "A"})
    asked = await client.get(f"{_path(parent)}/questions")
    assert (posted.status_code, posted.json()["code"]) == (400, 3000)
    said = {"webinar": "does not have registration", "meeting": "has not been enabled"}
    assert said[kind] in posted.json()["message"]
    assert (asked.status_code, asked.json()["code"]) == (400, 3000)
    assert "Registration has not been enabled" in asked.json()["message"]


async def test_the_fourth_request_a_day_for_one_registrant_is_429(
    scenario: Scenario, client: httpx.AsyncClient, kind: str
) -> None:
    parent = upcoming(scenario, kind)
    body = {"email": "a@example.com", "first_name": "A"}
    statuses = [(await client.post(_path(parent), json=body)).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    last = await client.post(_path(parent), json=body)
    assert last.json()["code"] == 429
    assert "daily rate limit of (3)" in last.json()["message"]
    other = await client.post(_path(parent), json=body | {"email": "b@example.com"})
    assert other.status_code == 201


async def test_the_host_cannot_register_and_an_ended_one_refuses(
    scenario: Scenario, client: httpx.AsyncClient, kind: str
) -> None:
    parent = upcoming(scenario, kind)
    host = await client.post(_path(parent), json={"email": "host@example.com", "first_name": "H"})
    assert host.json()["code"] == 3027
    ended = upcoming(scenario, kind, weeks=-1)
    r = await client.post(_path(ended), json={"email": "a@example.com", "first_name": "A"})
    assert (r.status_code, r.json()["code"]) == (400, 3038)
    assert r.json()["message"].startswith(f"{kind.capitalize()} is over")


async def test_an_unknown_webinar_is_404_3001(client: httpx.AsyncClient) -> None:
    r = await client.post("/v2/webinars/123/registrants", json={"email": "a@b.c"})
    assert (r.status_code, r.json()["code"]) == (404, 3001)
    q = await client.get("/v2/webinars/123/registrants/questions")
    assert (q.status_code, q.json()["code"]) == (404, 3001)


async def test_an_unknown_meeting_is_404_1001_to_register_and_3001_for_its_questions(
    client: httpx.AsyncClient,
) -> None:
    """meetingRegistrantCreate documents 1001, meetingRegistrantsQuestionsGet 3001."""
    r = await client.post("/v2/meetings/123/registrants", json={"email": "a@b.c"})
    assert (r.status_code, r.json()["code"]) == (404, 1001)
    assert r.json()["message"] == "Meeting does not exist: 123."
    q = await client.get("/v2/meetings/123/registrants/questions")
    assert (q.status_code, q.json()["code"]) == (404, 3001)


async def test_a_webinar_id_is_not_a_meeting_and_a_meeting_id_not_a_webinar(
    scenario: Scenario, client: httpx.AsyncClient
) -> None:
    webinar, meeting = upcoming(scenario, "webinar"), upcoming(scenario, "meeting")
    body = {"email": "a@example.com", "first_name": "A"}
    as_meeting = await client.post(f"/v2/meetings/{webinar.id}/registrants", json=body)
    as_webinar = await client.post(f"/v2/webinars/{meeting.id}/registrants", json=body)
    assert (as_meeting.status_code, as_webinar.status_code) == (404, 404)
    assert len(webinar.registrants) == len(meeting.registrants) == 0


@pytest.mark.parametrize("meeting_type", [1, 3, 4])
async def test_only_scheduled_and_fixed_time_recurring_meetings_take_registrants(
    scenario: Scenario, client: httpx.AsyncClient, meeting_type: int
) -> None:
    meeting = upcoming(scenario, "meeting")
    meeting.type = meeting_type  # instant, recurring with no fixed time, personal meeting ID
    body = {"email": "a@example.com", "first_name": "A"}
    posted = await client.post(_path(meeting), json=body)
    asked = await client.get(f"{_path(meeting)}/questions")
    assert (posted.status_code, posted.json()["code"]) == (400, 3000)
    assert (asked.status_code, asked.json()["code"]) == (400, 3000)
    assert len(meeting.registrants) == 0


async def test_a_recurring_meeting_registers_for_one_occurrence_and_shows_its_settings(
    scenario: Scenario, client: httpx.AsyncClient
) -> None:
    meeting = upcoming(scenario, "meeting", weeks=3, instances=4)
    details = (await client.get(f"/v2/meetings/{meeting.id}")).json()
    assert details["type"] == 8
    assert details["settings"] == {"approval_type": 0, "registration_type": 1}
    second = details["occurrences"][1]["occurrence_id"]
    r = await client.post(
        _path(meeting),
        params={"occurrence_ids": second},
        json={"email": "a@example.com", "first_name": "A"},
    )
    assert r.status_code == 201
    assert [o["occurrence_id"] for o in r.json()["occurrences"]] == [second]


async def test_a_meeting_made_without_registrants_has_registration_off(
    scenario: Scenario, client: httpx.AsyncClient
) -> None:
    host = scenario.user(email="host@example.com")
    meeting = scenario.meeting(host, start=ANCHOR + timedelta(days=7))
    details = (await client.get(f"/v2/meetings/{meeting.id}")).json()
    assert details["settings"]["approval_type"] == 2
    assert "registration_url" not in details


async def test_a_full_one_refuses_newcomers_with_3043_and_answers_those_registered(
    scenario: Scenario, client: httpx.AsyncClient, kind: str
) -> None:
    parent = upcoming(scenario, kind)
    parent.registration_capacity = 1
    ada = {"email": "ada@example.com", "first_name": "Ada"}
    assert (await client.post(_path(parent), json=ada)).status_code == 201
    full = await client.post(_path(parent), json={"email": "b@example.com", "first_name": "B"})
    assert (full.status_code, full.json()["code"]) == (400, 3043)
    assert full.json()["message"] == f"{kind.capitalize()} has reached maximum attendee capacity."
    assert (await client.post(_path(parent), json=ada)).status_code == 201
