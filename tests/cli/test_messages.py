"""What the command line says when a request cannot be served (issue 20, item 5).

One test per message: each says what was wrong in the user's own words and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import Result, invoke
from tests.reports.seed import NOW, WEEKLY, at, seed
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store import facts
from zoom_brevo.store.engine import create_engine, migrate, transaction

WEEKLY_ID = 811  # tests.reports.seed: the weekly meeting's number
NEXT_WEEK = "wk/Uuid//2=="
THE_WEEK_AFTER = "wk/Uuid//3=="


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The report seed, plus two later instances of the weekly meeting (one empty)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_engine(url)
    migrate(engine)
    seed(engine)
    with transaction(engine) as conn:
        for uuid, day in ((NEXT_WEEK, 10), (THE_WEEK_AFTER, 17)):
            facts.upsert_instance(
                conn,
                facts.Instance(uuid, WEEKLY_ID, "meeting", "Weekly sync", start_time=at(day, 10),
                               end_time=at(day, 11)),
                now=NOW,
            )  # fmt: skip
        facts.replace_final(
            conn,
            THE_WEEK_AFTER,
            [facts.Session("user:b", at(17, 10), at(17, 10, 45), "bob@example.com", "Bob Stone")],
            now=NOW,
        )
    engine.dispose()
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(sandbox_config("http://127.0.0.1:9", storage_url=url), encoding="utf-8")
    return path


def _cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Result:
    return invoke(capsys, ["--config", str(config), *args])


# --- report engagement --meeting / --email ---------------------------------------------------


def test_a_meeting_number_reports_its_latest_instance_and_lists_the_others(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = _cli(capsys, config, "report", "engagement", "--meeting", str(WEEKLY_ID))

    assert result.code == 0, result.err
    assert "Attendees of Weekly sync (1)" in result.out
    assert "bob@example.com" in result.out and "alice@" not in result.out
    assert result.err_lines[0] == (
        "Meeting 811 has 3 instances in the store; showing the latest (2025-03-17 10:00 UTC). "
        "For another, pass its UUID to --meeting:"
    )
    assert result.err_lines[1:] == [
        f"  2025-03-10 10:00 UTC  {NEXT_WEEK}",
        f"  2025-03-03 10:00 UTC  {WEEKLY}",
    ]


def test_a_meeting_number_in_json_names_the_instance_it_chose(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = _cli(capsys, config, "report", "engagement", "--meeting", "811", "--format", "json")

    assert result.code == 0, result.err
    assert json.loads(result.out)["meeting"]["uuid"] == THE_WEEK_AFTER


def test_a_meeting_number_not_in_the_store_says_which_sync_to_run(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = _cli(capsys, config, "report", "engagement", "--meeting", "87297843343")

    assert result.code == 1
    assert result.err_lines == [
        (
            "error: no instance of meeting or webinar 87297843343 in the store; run "
            "'zoom-brevo sync meeting 87297843343' (or 'sync webinar 87297843343') first"
        )
    ]


def test_an_unknown_address_is_echoed_as_typed(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = _cli(capsys, config, "report", "engagement", "--email", "nobody@example.com")

    assert result.code == 1
    assert result.err_lines == [
        "error: nobody with the e-mail address 'nobody@example.com' in the store"
    ]


# --- configuration ----------------------------------------------------------------------------

TWO_PROBLEMS = "server:\n  port: x\n  host: [1]\n"


@pytest.fixture
def bad_config(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    text = sandbox_config("http://127.0.0.1:9", storage_url="sqlite:///x.db")
    path.write_text(text + TWO_PROBLEMS, encoding="utf-8")
    return path


def test_every_configuration_problem_is_printed_one_per_line(
    capsys: pytest.CaptureFixture[str], bad_config: Path
) -> None:
    result = _cli(capsys, bad_config, "status")

    assert result.code == 2
    assert len(result.err_lines) == 2
    assert all(line.startswith(f"error: {bad_config}: server.") for line in result.err_lines)
    assert any("server.port (line" in line for line in result.err_lines)
    assert any("server.host (line" in line for line in result.err_lines)
    assert "more problem" not in result.err


def test_check_json_with_a_bad_configuration_prints_a_json_error(
    capsys: pytest.CaptureFixture[str], bad_config: Path
) -> None:
    result = _cli(capsys, bad_config, "check", "--json")

    assert result.code == 2
    document = json.loads(result.out)
    assert document["ok"] is False
    assert document["config"] == {"ok": False, "path": str(bad_config)}
    keys = sorted(problem.split(": ")[1].split(" ")[0] for problem in document["problems"])
    assert keys == ["server.host", "server.port"]
    assert len(result.err_lines) == 2


def test_check_json_without_a_configuration_file_prints_a_json_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = _cli(capsys, tmp_path / "missing.yaml", "check", "--json")

    assert result.code == 2
    [problem] = json.loads(result.out)["problems"]
    assert "not found" in problem


# --- retry ------------------------------------------------------------------------------------


def test_retry_of_an_unknown_entry_gives_one_hint(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = _cli(capsys, config, "retry", "outbox:99999")

    assert result.code == 2
    assert result.err_lines == [
        "error: Invalid value: outbox:99999: no such outbox entry; see 'zoom-brevo status'"
    ]


# --- sync: a webinar number given to sync meeting, and the other way round ----------------


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    box = build_sandbox(enforce_rate_limits=False)
    with serving(box.app) as base_url:
        path = tmp_path / "zoom-brevo.yaml"
        url = f"sqlite:///{tmp_path / 'sync.db'}"
        path.write_text(sandbox_config(base_url, box.list_ids, storage_url=url), "utf-8")
        yield box, path


def test_sync_meeting_with_a_webinar_number_hints_at_sync_webinar(
    capsys: pytest.CaptureFixture[str], sandbox: tuple[Sandbox, Path]
) -> None:
    box, config = sandbox
    webinar = str(box.scenario.webinars[0].id)

    result = _cli(capsys, config, "sync", "meeting", webinar)

    assert result.code == 1
    [line] = result.err_lines
    assert "code 3001" in line
    assert line.endswith(f"If {webinar} is a webinar, run 'zoom-brevo sync webinar {webinar}'.")


def test_sync_webinar_with_a_meeting_number_hints_at_sync_meeting(
    capsys: pytest.CaptureFixture[str], sandbox: tuple[Sandbox, Path]
) -> None:
    box, config = sandbox
    meeting = str(box.scenario.meetings[0].id)

    result = _cli(capsys, config, "sync", "webinar", meeting)

    assert result.code == 1
    [line] = result.err_lines
    assert line.endswith(f"If {meeting} is a meeting, run 'zoom-brevo sync meeting {meeting}'.")
