"""``check`` against the combined sandbox over loopback: what it verifies and how it fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import Result, invoke
from zoom_brevo.sandbox import combined
from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.usecases.checks import CheckReport, ServiceCheck, compare_brevo


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[tuple[str, dict[str, int]]]:
    box = build_sandbox(prepare_brevo=True)
    with serving(box.app) as base_url:
        yield base_url, dict(box.list_ids)


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _check(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> Result:
    return invoke(capsys, ["--config", str(path), "check", *extra])


def test_check_passes_against_the_sandbox_and_says_what_it_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sandbox_url: tuple[str, dict[str, int]]
) -> None:
    base_url, list_ids = sandbox_url
    result = _check(capsys, _config(tmp_path, sandbox_config(base_url, list_ids)))
    assert result.code == 0, result.err
    assert result.err_lines == []
    for verified in ("Zoom credentials", "token OK", "scopes", "meeting:read:admin",
                     "Brevo API key", "account OK", "Brevo attributes", "15 present",
                     "Brevo lists", "1 (meeting_participants)"):  # fmt: skip
        assert verified in result.out


def test_check_json_prints_only_the_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sandbox_url: tuple[str, dict[str, int]]
) -> None:
    base_url, list_ids = sandbox_url
    result = _check(capsys, _config(tmp_path, sandbox_config(base_url, list_ids)), "--json")
    assert result.code == 0
    document = json.loads(result.out)
    assert document["ok"] is True
    assert document["zoom"]["ok"] is True
    assert "report:read:admin" in document["zoom"]["scopes"]
    assert document["attributes"]["missing"] == []
    assert document["lists"]["present"] == list_ids
    assert document["problems"] == []


def test_wrong_zoom_secret_fails_with_one_line_naming_zoom_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sandbox_url: tuple[str, dict[str, int]]
) -> None:
    base_url, list_ids = sandbox_url
    text = sandbox_config(base_url, list_ids).replace(combined.ZOOM_CLIENT_SECRET, "wrong")
    result = _check(capsys, _config(tmp_path, text))
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "Zoom" in result.err and "credentials" in result.err
    assert "Brevo" not in result.err  # Brevo was fine
    assert "FAILED" in result.out


def test_wrong_brevo_key_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sandbox_url: tuple[str, dict[str, int]]
) -> None:
    base_url, list_ids = sandbox_url
    text = sandbox_config(base_url, list_ids).replace(combined.BREVO_API_KEY, "xkeysib-wrong")
    result = _check(capsys, _config(tmp_path, text), "--json")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "Brevo" in result.err and "API key" in result.err
    assert "xkeysib-wrong" not in result.err
    document = json.loads(result.out)
    assert (document["ok"], document["zoom"]["ok"], document["brevo"]["ok"]) == (False, True, False)
    assert document["attributes"]["missing"] is None


def test_unknown_list_is_reported_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sandbox_url: tuple[str, dict[str, int]]
) -> None:
    base_url, list_ids = sandbox_url
    text = sandbox_config(base_url, {**list_ids, "webinar_absentees": 999})
    result = _check(capsys, _config(tmp_path, text))
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "missing Brevo lists 999 (webinar_absentees)" in result.err


def test_missing_attributes_and_lists_point_to_setup_brevo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box = build_sandbox(prepare_brevo=False)
    with serving(box.app) as base_url:
        text = sandbox_config(base_url, {"meeting_participants": 15})
        result = _check(capsys, _config(tmp_path, text), "--json")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "zoom-brevo setup-brevo" in result.err
    assert "MEETING_DURATION" in result.err
    document = json.loads(result.out)
    # A fresh Brevo account has FIRSTNAME and LASTNAME already.
    assert document["attributes"]["present"] == ["FIRSTNAME", "LASTNAME"]
    assert "ZOOM_ENGAGEMENT_SCORE" in document["attributes"]["missing"]
    assert document["lists"]["missing"] == {"meeting_participants": 15}


def test_unreachable_zoom_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sandbox_url: tuple[str, dict[str, int]]
) -> None:
    base_url, list_ids = sandbox_url
    dead = f"http://127.0.0.1:{free_port()}"
    text = sandbox_config(base_url, list_ids).replace(f"{base_url}/zoom", f"{dead}/zoom")
    result = _check(capsys, _config(tmp_path, text))
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "Zoom" in result.err


def test_disabled_zoom_connector_is_not_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sandbox_url: tuple[str, dict[str, int]]
) -> None:
    base_url, list_ids = sandbox_url
    text = sandbox_config(base_url, list_ids).replace(
        "client_secret: sandbox-client-secret", "client_secret: wrong\n    enabled: false"
    )
    result = _check(capsys, _config(tmp_path, text))
    assert result.code == 0, result.err
    assert "skipped" in result.out


@pytest.mark.parametrize(
    ("wanted", "existing", "present", "missing"),
    [
        (["FIRSTNAME", "MEETING_DURATION"], ["FIRSTNAME"], ["FIRSTNAME"], ["MEETING_DURATION"]),
        (["firstname"], ["FIRSTNAME"], ["firstname"], []),
        (["A", "A"], [], [], ["A"]),
        ([], ["X"], [], []),
    ],
)
def test_compare_brevo_attributes(
    wanted: list[str], existing: list[str], present: list[str], missing: list[str]
) -> None:
    needs = compare_brevo(wanted, {}, existing, [])
    assert (needs.attributes_present, needs.attributes_missing) == (present, missing)


def test_compare_brevo_lists() -> None:
    needs = compare_brevo([], {"meeting_participants": 15, "webinar_attendees": 16}, [], [15, 3])
    assert needs.lists_present == {"meeting_participants": 15}
    assert needs.lists_missing == {"webinar_attendees": 16}


def test_problems_joined_on_one_line_do_not_double_their_punctuation() -> None:
    report = CheckReport(
        zoom=ServiceCheck(ok=False, detail="Zoom refused access. Check the app's credentials."),
        brevo=ServiceCheck(ok=False, detail="Brevo refused the API key. Check brevo.api_key."),
    )

    joined = "; ".join(report.problems())

    assert ".;" not in joined
    assert joined.endswith("Check brevo.api_key")
