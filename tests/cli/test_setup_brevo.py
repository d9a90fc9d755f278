"""``setup-brevo`` against the emulated Brevo account over loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.cli.helpers import Result, invoke
from zoom_brevo.sandbox.brevo.state import Attribute
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.serving import serving

NEW_ATTRIBUTES = {
    "MEETING_JOIN_DATE": "date",
    "MEETING_DURATION": "float",
    "WEBINAR_NAME": "text",
    "ZOOM_LAST_OCCURRENCE": "text",
    "ZOOM_REPLAY_WATCHED": "date",
    "ATTENDANCE_STATUS": "text",
    "UTM_SOURCE": "text",
    "ZOOM_ATTENDANCE_RATIO": "float",
    "ZOOM_MEETINGS_ATTENDED": "float",
    "ZOOM_TOTAL_MINUTES": "float",
    "ZOOM_LAST_ATTENDED": "date",
    "ZOOM_ENGAGEMENT_SCORE": "float",
}


@pytest.fixture
def box() -> Iterator[tuple[Sandbox, str]]:
    # The "extended" plan (60 contact calls/s) keeps the client's rate limiter from slowing tests.
    sandbox = build_sandbox(prepare_brevo=False, brevo_plan="extended")
    with serving(sandbox.app) as base_url:
        yield sandbox, base_url


def _setup(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    base_url: str,
    *args: str,
    lists: Mapping[str, int] | None = None,
) -> Result:
    path = tmp_path / "zoom-brevo.yaml"
    text = sandbox_config(base_url, lists).replace("/brevo/v3\n", "/brevo/v3\n  plan: extended\n")
    path.write_text(text, encoding="utf-8")
    return invoke(capsys, ["--config", str(path), "setup-brevo", *args])


def _posts(sandbox: Sandbox) -> list[str]:
    return [r.path for r in sandbox.brevo.stats.log if r.method != "GET"]


def test_dry_run_prints_the_plan_changes_nothing_and_exits_1(
    box: tuple[Sandbox, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, base_url = box
    result = _setup(capsys, tmp_path, base_url, "--dry-run")
    assert result.code == 1
    assert "dry run" in result.out
    assert "attribute ZOOM_TOTAL_MINUTES (float): would create" in result.out
    assert "list meeting_participants: would create 'Zoom - Meeting participants'" in result.out
    assert "changes pending" in result.err
    assert sandbox.brevo.stats.log, "the account was read"
    assert _posts(sandbox) == []
    assert set(sandbox.brevo.state.attributes) == {"FIRSTNAME", "LASTNAME", "SMS"}
    assert sandbox.brevo.state.lists == {}


def test_creates_attributes_with_their_types_folder_and_lists_then_prints_the_ids(
    box: tuple[Sandbox, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, base_url = box
    result = _setup(capsys, tmp_path, base_url)
    assert result.code == 0, result.err
    state = sandbox.brevo.state
    assert {n: state.attributes[n].type for n in NEW_ATTRIBUTES} == NEW_ATTRIBUTES
    assert all(state.attributes[n].category == "normal" for n in NEW_ATTRIBUTES)
    (folder,) = state.folders.values()
    assert folder.name == "Zoom"
    by_name = {lst.name: lst.id for lst in state.lists.values() if lst.folder_id == folder.id}
    assert set(by_name) == {
        "Zoom - Meeting participants",
        "Zoom - Webinar attendees",
        "Zoom - Webinar registrants",
    }
    assert f"meeting_participants: {by_name['Zoom - Meeting participants']}" in result.out
    assert "connectors:\n  zoom:\n    lists:" in result.out


def test_a_second_run_finds_everything_and_creates_nothing(
    box: tuple[Sandbox, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, base_url = box
    first = _setup(capsys, tmp_path, base_url, "--json")
    assert first.code == 0
    made = json.loads(first.out)["lists"]["created"]
    sandbox.brevo.stats.log.clear()
    second = _setup(capsys, tmp_path, base_url, "--json")
    assert second.code == 0
    document = json.loads(second.out)
    assert _posts(sandbox) == []
    assert document["attributes"]["to_create"] == {}
    assert document["lists"]["found"] == made
    assert document["lists"]["created"] == {}
    assert document["config_snippet"] == json.loads(first.out)["config_snippet"]
    assert len(sandbox.brevo.state.folders) == 1


def test_configured_lists_that_exist_need_no_snippet(
    box: tuple[Sandbox, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sandbox, base_url = box
    first = json.loads(_setup(capsys, tmp_path, base_url, "--json").out)
    result = _setup(capsys, tmp_path, base_url, "--json", lists=first["lists"]["created"])
    document = json.loads(result.out)
    assert result.code == 0
    assert document["lists"]["present"] == first["lists"]["created"]
    assert document["config_snippet"] == ""


def test_wrong_attribute_type_is_reported_never_changed_and_exits_1(
    box: tuple[Sandbox, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, base_url = box
    sandbox.brevo.state.attributes["MEETING_DURATION"] = Attribute(
        "MEETING_DURATION", "normal", "text"
    )
    result = _setup(capsys, tmp_path, base_url)
    assert result.code == 1
    assert "MEETING_DURATION" in result.err
    assert "WRONG TYPE text (needs float)" in result.out
    assert sandbox.brevo.state.attributes["MEETING_DURATION"].type == "text"
    assert sandbox.brevo.state.attributes["ZOOM_TOTAL_MINUTES"].type == "float"  # rest done


def test_a_configured_list_id_unknown_to_brevo_is_reported_and_exits_1(
    box: tuple[Sandbox, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sandbox, base_url = box
    result = _setup(capsys, tmp_path, base_url, "--json", lists={"meeting_participants": 4242})
    assert result.code == 1
    document = json.loads(result.out)
    assert document["ok"] is False
    assert document["lists"]["missing"] == {"meeting_participants": 4242}
    assert "connectors.zoom.lists.meeting_participants" in result.err
    assert len(result.err_lines) == 1
