"""Every status-like command's ``--json``: ONE JSON document on standard output, real values.

The commands run in-process against the combined sandbox (emulated Zoom and Brevo over
loopback) and a temporary SQLite store. Messages and progress go to standard error, so
``json.loads(stdout)`` must succeed as is. ``demo --json`` is parsed in test_demo.py (the
demo's 500-registrant webinar takes too long to run twice).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
import typer

from tests.cli.helpers import invoke
from zoom_brevo.cli.app import app, run
from zoom_brevo.crypto import Cipher, generate_key
from zoom_brevo.oauth_tokens import TokenRepository
from zoom_brevo.pipeline.commands import UpsertContact
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import Meeting, Scenario, Webinar
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store import outbox
from zoom_brevo.store.engine import create_engine, migrate, transaction
from zoom_brevo.store.outbox import NewCommand
from zoom_brevo.zoom.oauth import TokenSet

# One worker runs the module (scripts/test), so the shared world is synced once.
pytestmark = pytest.mark.xdist_group(__name__)

FORGOTTEN = "fay.forget@example.com"
STATUS_LIKE = {
    "check": "--json",
    "status": "--json",
    "setup-brevo": "--json",
    "sync meeting": "--json",
    "sync webinar": "--json",
    "backfill": "--json",
    "report engagement": "--format",
    "retry": "--json",
    "forget": "--json",
    "rotate-key": "--json",
    "demo": "--json",
}


@dataclass
class World:
    """The sandbox, its scenario objects, the configuration and the syncs' JSON output."""

    box: Sandbox
    meeting: Meeting
    webinar: Webinar
    config: Path
    store_url: str
    synced_meeting: dict[str, Any]
    synced_webinar: dict[str, Any]
    zoom_api_calls: tuple[int, int]  # what the emulator answered during each sync


def _scenario() -> tuple[Scenario, Meeting, Webinar]:
    sc = Scenario(seed=11, anchor=datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    host = sc.user(email="host@example.com")
    meeting = sc.meeting(
        host, topic="Planning", participants=5, start=sc.anchor - timedelta(days=2)
    )
    start = meeting.latest.start
    fay = sc.new_person(FORGOTTEN, "Fay", "Forget")
    meeting.latest.add_attendee(fay, [(start, start + timedelta(minutes=20))])
    webinar = sc.webinar(
        host, topic="Launch", registrants=6, attendees=4, start=sc.anchor - timedelta(days=4)
    )
    return sc, meeting, webinar


def _run_json(args: list[str]) -> dict[str, Any]:
    """Run the CLI outside any fixture's capture (for the module-wide set-up)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = run(args, {})
    structlog.reset_defaults()
    assert code == 0, err.getvalue()
    document: dict[str, Any] = json.loads(out.getvalue())
    return document


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    scenario, meeting, webinar = _scenario()
    box = build_sandbox(scenario, prepare_brevo=True)
    tmp = tmp_path_factory.mktemp("json-outputs")
    store_url = f"sqlite:///{tmp / 'store.db'}"
    key = generate_key()
    with serving(box.app) as base_url:
        text = sandbox_config(base_url, box.list_ids, storage_url=store_url)
        config = tmp / "zoom-brevo.yaml"
        config.write_text(f"{text}  encryption_key: {key}\n", encoding="utf-8")
        _store_a_token(store_url, key)
        cli = ["--config", str(config), "sync"]
        synced_meeting = _run_json([*cli, "meeting", str(meeting.id), "--json"])
        after_meeting = len(box.zoom.stats.api_calls())
        synced_webinar = _run_json([*cli, "webinar", str(webinar.id), "--json"])
        calls = (after_meeting, len(box.zoom.stats.api_calls()) - after_meeting)
        yield World(box, meeting, webinar, config, store_url, synced_meeting, synced_webinar, calls)


def _store_a_token(store_url: str, key: str) -> None:
    engine = create_engine(store_url)
    try:
        migrate(engine)
        tokens = TokenSet("access", "refresh", expires_at=1_750_000_000.0, scope="meeting:read")
        TokenRepository(engine, Cipher([key])).save(tokens)
    finally:
        engine.dispose()


def cli_json(capsys: pytest.CaptureFixture[str], world: World, *args: str) -> Any:
    """``zoom-brevo --config CONFIG ARGS``: exit 0, and standard output is one JSON document."""
    result = invoke(capsys, ["--config", str(world.config), *args])
    assert result.code == 0, result.err
    return json.loads(result.out)


def _emails(meeting: Meeting | Webinar) -> set[str]:
    return {
        a.person.email.lower()
        for inst in meeting.instances
        for a in inst.attendances()
        if a.person.email
    }


# --- the inventory ---------------------------------------------------------------------------


def test_every_status_like_command_offers_a_json_output() -> None:
    root = typer.main.get_command(app)
    for path, option in STATUS_LIKE.items():
        command: Any = root
        for name in path.split():
            command = command.commands[name]
        options = {opt for param in command.params for opt in param.opts}
        assert option in options, f"zoom-brevo {path} lacks {option}"


# --- one test per command --------------------------------------------------------------------


def test_sync_meeting_json_counts_the_instance_its_people_and_the_delivery(world: World) -> None:
    document = world.synced_meeting
    assert document["kind"] == "meeting"
    assert document["target"] == str(world.meeting.id)
    assert document["instances"] == 1
    assert document["people"] >= len(_emails(world.meeting))
    assert document["zoom_calls"] == world.zoom_api_calls[0] > 0
    assert document["delivery"]["events_sent"] > 0
    assert document["delivery"]["outstanding"] == 0


def test_sync_webinar_json_counts_registrants_and_absentees(world: World) -> None:
    document = world.synced_webinar
    assert document["kind"] == "webinar"
    assert document["registrants"] == 6
    assert document["absentees"] == 2
    assert document["zoom_calls"] == world.zoom_api_calls[1] > 0
    assert document["delivery"]["brevo_calls"] > 0


def test_status_json_shows_the_delivered_outbox_and_the_last_sync(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    document = cli_json(capsys, world, "status", "--json")
    assert document["outbox"]["done"] > 0
    assert document["outbox"]["queued"] == 0
    assert datetime.fromisoformat(document["last_sync"]) > datetime.now(UTC) - timedelta(hours=1)
    assert document["limits"]["zoom"]["plan"] == "pro"


def test_check_json_says_both_credentials_work(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    document = cli_json(capsys, world, "check", "--json")
    assert document["ok"] is True
    assert document["zoom"]["ok"] is True
    assert document["brevo"]["ok"] is True
    assert document["lists"]["missing"] == {}
    assert document["problems"] == []


def test_setup_brevo_json_dry_run_finds_everything_in_place(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    document = cli_json(capsys, world, "setup-brevo", "--dry-run", "--json")
    assert document["ok"] is True
    assert document["dry_run"] is True
    assert document["attributes"]["to_create"] == {}
    assert set(document["lists"]["present"]) == set(world.box.list_ids)


def test_report_engagement_json_lists_the_meetings_attendees(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    uuid = world.meeting.latest.uuid
    document = cli_json(
        capsys, world, "report", "engagement", "--meeting", uuid, "--format", "json"
    )
    assert document["report"] == "meeting"
    assert document["meeting"]["uuid"] == uuid
    rows = document["rows"]
    assert rows
    assert {row["email"] for row in rows} <= _emails(world.meeting)
    assert all(row["minutes"] > 0 for row in rows)


def test_retry_json_names_the_requeued_dead_letter(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    dead = _bury_one_command(world.store_url)
    document = cli_json(capsys, world, "retry", f"outbox:{dead}", "--json")
    assert document["requeued"] == 1
    [letter] = document["letters"]
    assert letter["id"] == f"outbox:{dead}"
    assert letter["kind"] == "contact"
    assert letter["error"] == "Brevo refused it"


def _bury_one_command(store_url: str) -> int:
    engine = create_engine(store_url)
    now = datetime.now(UTC)
    command = UpsertContact("dead.letter@example.com", {"FIRSTNAME": "Dee"})
    try:
        with transaction(engine) as conn:
            new = NewCommand(command.kind, command.to_payload(), command.coalescing_key)
            outbox.add(conn, new, now=now)
            [claimed] = outbox.claim_batch(conn, limit=1, owner="test", lease_s=60, now=now)
            outbox.bury(conn, [claimed.id], owner="test", error="Brevo refused it", now=now)
    finally:
        engine.dispose()
    return claimed.id


def test_forget_json_counts_the_erased_rows_and_the_brevo_deletion(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    document = cli_json(capsys, world, "forget", FORGOTTEN, "--brevo", "--yes", "--json")
    assert document["local"]["total"] > 0
    assert document["brevo"] == {"outcome": "deleted", "error": None}
    assert FORGOTTEN not in json.dumps(document)
    assert world.box.brevo.state.contact(FORGOTTEN) is None


def test_rotate_key_json_counts_the_stored_token(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    document = cli_json(capsys, world, "rotate-key", "--json")
    assert document["resealed"] + document["already_current"] == 1
    assert isinstance(document["key_id"], str)
    assert document["key_id"]


def test_backfill_json_summarizes_the_walk_and_the_delivery(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    since = str((datetime.now(UTC) - timedelta(days=10)).date())
    document = cli_json(capsys, world, "backfill", "--from", since, "--json")
    assert document["dry_run"] is False
    assert document["walk"]["found"] == 2  # the meeting's and the webinar's instance
    assert document["walk"]["users"] == 1
    assert document["delivery"]["outstanding"] == 0
    assert document["delivery"]["dead"] == 0


def test_backfill_dry_run_json_lists_the_instances_it_would_sync(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    since = str((datetime.now(UTC) - timedelta(days=10)).date())
    document = cli_json(capsys, world, "backfill", "--from", since, "--dry-run", "--json")
    assert document["dry_run"] is True
    found = {(item["kind"], item["uuid"]) for item in document["would_sync"]}
    assert found == {
        ("meeting", world.meeting.latest.uuid),
        ("webinar", world.webinar.latest.uuid),
    }
    assert all(datetime.fromisoformat(item["start_time"]) for item in document["would_sync"])
