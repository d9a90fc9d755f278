"""``demo`` runs setup-brevo and both syncs against the sandbox and tells the truth about it.

The expected figures are computed here, independently, from the demo's scenario: one
contact per distinct (case-insensitive) address, a webinar attendee's address being the one
of their registration (Zoom links them by registrant id, reference zoom.md 6.1).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from tests.cli.helpers import invoke
from zoom_brevo.demo import (
    DEFAULT_SEED,
    TOP,
    DemoSummary,
    DemoWorld,
    demo_scenario,
    render,
    run_in_sandbox,
)
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox
from zoom_brevo.sandbox.scenario import Meeting, Webinar

# One worker runs the module (scripts/test), so the shared demo run happens once.
pytestmark = pytest.mark.xdist_group(__name__)

DEMO_DEADLINE_S = 60.0


@dataclass(frozen=True)
class Expected:
    """What Brevo must hold after the demo, from the scenario alone."""

    meeting_participants: set[str]
    webinar_registrants: set[str]
    webinar_attendees: set[str]
    meeting_guest_sessions: int

    @property
    def sizes(self) -> dict[str, int]:
        return {
            "meeting_participants": len(self.meeting_participants),
            "webinar_attendees": len(self.webinar_attendees),
            "webinar_registrants": len(self.webinar_registrants),
        }

    @property
    def events(self) -> dict[str, int]:
        attended = len(self.meeting_participants) + len(self.webinar_attendees)
        absent = len(self.webinar_registrants - self.webinar_attendees)
        return {"zoom_absent": absent, "zoom_attended": attended}


def expected_of(world: DemoWorld) -> Expected:
    meeting = world.scenario.find(world.meeting_id)
    webinar = world.scenario.find(world.webinar_id)
    assert isinstance(meeting, Meeting) and isinstance(webinar, Webinar)
    attendances = list(meeting.latest.attendances())
    webinar_seen = [
        (a.registrant.email if a.registrant else a.person.email).lower()
        for a in webinar.latest.attendances()
    ]
    return Expected(
        meeting_participants={a.person.email.lower() for a in attendances if a.person.email},
        webinar_registrants={r.email.lower() for r in webinar.registrants},
        webinar_attendees={email for email in webinar_seen if email},
        # A guest without e-mail who rejoins gets a new session id each time and counts once
        # per session (engagement/identity.py: names are not identifiers).
        meeting_guest_sessions=sum(len(a.sessions) for a in attendances if not a.person.email),
    )


@dataclass(frozen=True)
class DemoRun:
    box: Sandbox
    world: DemoWorld
    summary: DemoSummary


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One demo, in-process, with the sandbox kept for inspection."""
    world = demo_scenario(DEFAULT_SEED)
    box = build_sandbox(world.scenario, prepare_brevo=False)
    summary = run_in_sandbox(box, world, tmp_path_factory.mktemp("demo"))
    return DemoRun(box, world, summary)


def test_demo_command_exits_0_and_its_json_matches_the_scenario(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a fresh machine: no configuration anywhere
    result = invoke(capsys, ["demo", "--json"], environ={})
    assert result.code == 0, result.err
    assert "Traceback" not in result.out + result.err
    summary = json.loads(result.out)
    expected = expected_of(demo_scenario(DEFAULT_SEED))
    assert {role: v["contacts"] for role, v in summary["lists"].items()} == expected.sizes
    assert summary["events"] == expected.events
    assert summary["wall_s"] < DEMO_DEADLINE_S
    assert list(tmp_path.iterdir()) == []  # the store and configuration lived elsewhere


def test_setup_brevo_created_the_lists_the_sync_filled(run: DemoRun) -> None:
    state = run.box.brevo.state
    created = run.summary.setup.lists_created
    assert set(created) == {"meeting_participants", "webinar_attendees", "webinar_registrants"}
    assert set(created.values()) == set(state.lists)
    assert "ZOOM_ENGAGEMENT_SCORE" in run.summary.setup.attributes_created


def test_contacts_per_list_equal_the_emulated_state_and_the_scenario(run: DemoRun) -> None:
    state = run.box.brevo.state
    expected = expected_of(run.world)
    by_role = {c.role: c for c in run.summary.lists}
    assert {role: c.contacts for role, c in by_role.items()} == expected.sizes
    for role, emails in (
        ("meeting_participants", expected.meeting_participants),
        ("webinar_attendees", expected.webinar_attendees),
        ("webinar_registrants", expected.webinar_registrants),
    ):
        members = {c.email for c in state.members(by_role[role].list_id)}
        assert members == emails, role
    everyone = expected.meeting_participants | expected.webinar_registrants
    assert run.summary.contacts == len(state.contacts) == len(everyone)


def test_events_by_name_equal_the_emulated_state_and_the_scenario(run: DemoRun) -> None:
    sent = Counter(e.event_name for e in run.box.brevo.state.events)
    assert dict(run.summary.events) == dict(sent) == expected_of(run.world).events


def test_registrants_carry_the_name_of_their_tracking_source(run: DemoRun) -> None:
    webinar = run.world.scenario.find(run.world.webinar_id)
    assert isinstance(webinar, Webinar)
    state = run.box.brevo.state
    # One address registered twice (in other letter case) is one contact with one source.
    registered = Counter(r.email.lower() for r in webinar.registrants)
    sources: Counter[str] = Counter()
    for registrant in webinar.registrants:
        contact = state.contact(registrant.email)
        assert contact is not None
        if registrant.tracking_source is not None and registered[registrant.email.lower()] == 1:
            assert contact.attributes.get("UTM_SOURCE") == registrant.tracking_source.source_name
            sources[registrant.tracking_source.source_name] += 1
    assert len(sources) == 2


def test_guests_without_email_are_counted_not_sent(run: DemoRun) -> None:
    expected = expected_of(run.world)
    assert run.summary.skipped == {"no_email": expected.meeting_guest_sessions}
    assert all(c.email for c in run.box.brevo.state.contacts.values())


def test_top_ten_is_ranked_by_the_score_sent_to_brevo(run: DemoRun) -> None:
    top = run.summary.top
    assert len(top) == TOP
    assert [p.score for p in top] == sorted((p.score for p in top), reverse=True)
    state = run.box.brevo.state
    for person in top:
        contact = state.contact(person.email)
        assert contact is not None
        assert contact.attributes["ZOOM_ENGAGEMENT_SCORE"] == pytest.approx(person.score, abs=0.05)
    # People of both the meeting and the webinar have two meetings behind them.
    assert any(p.meetings_attended == 2 for p in top)


def test_api_calls_are_the_emulators_counts(run: DemoRun) -> None:
    summary = run.summary
    assert sum(summary.zoom_calls.values()) == len(run.box.zoom.stats.api_calls())
    assert summary.zoom_calls["/webinars/{webinarId}/registrants?tracking_source_id"] == 2
    assert dict(summary.brevo_calls) == dict(run.box.brevo.stats.requests)
    # 511 contacts, 529 events: batched, not one call each.
    assert summary.brevo_calls["events"] < 10
    assert sum(summary.brevo_calls.values()) < summary.contacts // 4


def test_the_printed_summary_shows_lists_events_top_and_calls(run: DemoRun) -> None:
    console = Console(record=True, width=200)
    console.print(render(run.summary))
    text = console.export_text()
    for entry in run.summary.lists:
        assert f"{entry.name} (id {entry.list_id})" in text
    assert "zoom_attended" in text and "zoom_absent" in text
    assert run.summary.top[0].email in text
    assert "no_email" in text
    assert "/past_meetings/{meetingId}/participants" in text
    assert "Wall time" in text


def test_the_overrunning_webinar_counts_to_its_real_end_and_both_kinds_carry_a_status(
    run: DemoRun,
) -> None:
    spans = {s.kind: s for s in run.summary.spans}
    webinar = run.world.scenario.find(run.world.webinar_id)
    assert webinar is not None
    real = (webinar.latest.end - webinar.latest.start).total_seconds() / 60
    assert spans["webinar"].actual_min == real > spans["webinar"].scheduled_min
    assert {s.source for s in spans.values()} == {"report"}
    expected = expected_of(run.world)
    by_role = {c.role: c.name for c in run.summary.lists}
    statuses = run.summary.statuses
    assert statuses[by_role["meeting_participants"]] == {
        "attended": len(expected.meeting_participants)
    }
    assert statuses[by_role["webinar_attendees"]] == {"attended": len(expected.webinar_attendees)}
    # Someone who stayed past the scheduled end has more minutes than the schedule allows.
    state = run.box.brevo.state
    longest = max(
        c.attributes.get("MEETING_DURATION", 0.0)
        for c in state.members(next(c.list_id for c in run.summary.lists
                                    if c.role == "webinar_attendees"))
    )  # fmt: skip
    assert longest > spans["webinar"].scheduled_min
