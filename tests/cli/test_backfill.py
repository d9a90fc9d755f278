"""``backfill`` end to end against the combined sandbox (Zoom + Brevo) over loopback."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.helpers import Result, invoke
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store import cursors, facts
from zoom_brevo.store.engine import create_engine, reading

TODAY = datetime.now(UTC).date()


def scenario() -> Scenario:
    sc = Scenario(seed=5)
    host = sc.user(email="host@example.com")
    sc.meeting(host, topic="Kick-off", participants=4, start=sc.anchor - timedelta(days=3))
    sc.meeting(
        host, topic="Weekly", participants=3, instances=2, start=sc.anchor - timedelta(days=1)
    )
    sc.webinar(
        host, topic="Launch", registrants=5, attendees=3, start=sc.anchor - timedelta(days=5)
    )
    return sc


@pytest.fixture
def box() -> Iterator[tuple[Sandbox, str]]:
    sandbox = build_sandbox(scenario(), brevo_plan="extended", prepare_brevo=True)
    with serving(sandbox.app) as base_url:
        yield sandbox, base_url


def _backfill(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    box: tuple[Sandbox, str],
    *args: str,
    command: str = "backfill",
) -> Result:
    sandbox, base_url = box
    text = sandbox_config(base_url, sandbox.list_ids, storage_url=_store_url(tmp_path))
    text = text.replace("/brevo/v3\n", "/brevo/v3\n  plan: extended\n")
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(text, encoding="utf-8")
    return invoke(capsys, ["--config", str(path), command, *args])


def _store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def _instances(sc: Scenario) -> set[str]:
    return {i.uuid for m in (*sc.meetings, *sc.webinars) for i in m.instances}


def test_backfill_collects_every_instance_delivers_contacts_and_sends_no_events(
    box: tuple[Sandbox, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, _ = box
    result = _backfill(capsys, tmp_path, box, "--from", str(TODAY - timedelta(days=30)))
    assert result.code == 0, result.err
    assert "instances synced" in result.out
    engine = create_engine(_store_url(tmp_path))
    with reading(engine) as conn:
        stored = {i.uuid: i.collect_state for i in facts.list_instances(conn)}
        assert cursors.get(conn, "backfill") is None  # finished: nothing to resume
    engine.dispose()
    assert set(stored) == _instances(sandbox.scenario)
    assert set(stored.values()) == {"collected"}
    brevo = sandbox.brevo.state
    assert brevo.members(sandbox.list_ids["meeting_participants"])
    assert brevo.events == []  # history never triggers automations without --events


def test_backfill_with_events_sends_them(
    box: tuple[Sandbox, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, _ = box
    result = _backfill(capsys, tmp_path, box, "--from", str(TODAY - timedelta(days=30)), "--events")
    assert result.code == 0, result.err
    names = {e.event_name for e in sandbox.brevo.state.events}
    assert "zoom_attended" in names


def test_dry_run_lists_the_instances_and_writes_nothing(
    box: tuple[Sandbox, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, _ = box
    result = _backfill(
        capsys, tmp_path, box, "--from", str(TODAY - timedelta(days=30)), "--dry-run"
    )
    assert result.code == 0, result.err
    assert "4 instances would be synced" in result.out
    for uuid in _instances(sandbox.scenario):
        assert uuid in result.out
    assert not (tmp_path / "store.db").exists()
    assert [r for r in sandbox.brevo.stats.log if r.method != "GET"] == []


def test_dates_beyond_zoom_retention_are_skipped_with_a_warning(
    box: tuple[Sandbox, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = str(TODAY - timedelta(days=800))
    result = _backfill(capsys, tmp_path, box, "--from", old, "--dry-run")
    assert result.code == 0, result.err
    assert "warning: skipping" in result.err
    assert "15 months" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "yesterday"], "--from expects a date"),
        (["--from", "2025-02-01", "--to", "2025-01-01"], "before --from"),
        ([], "--from"),
    ],
)
def test_bad_dates_are_usage_errors(
    box: tuple[Sandbox, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    result = _backfill(capsys, tmp_path, box, *args)
    assert result.code == 2
    assert message in result.err


NUMBER = re.compile(r"/\d+")  # ids in paths: /contacts/lists/{id}/contacts/add
LARGE_REGISTRANTS = 1_500  # more contacts than one claimed batch (``Deliverer`` batch_size)


def large_webinar() -> Scenario:
    sc = Scenario(seed=11)
    host = sc.user(email="host@example.com")
    sc.webinar(
        host,
        topic="Large launch",
        registrants=LARGE_REGISTRANTS,
        attendees=900,
        start=sc.anchor - timedelta(days=2),
    )
    return sc


def _brevo_calls(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> tuple[Counter[str], dict[str, object]]:
    """Run ``command`` (sync or backfill) over a fresh sandbox; its Brevo calls and JSON."""
    sandbox = build_sandbox(large_webinar(), brevo_plan="extended", prepare_brevo=True)
    home = tmp_path / command
    home.mkdir()
    webinar = sandbox.scenario.webinars[0]
    args = {
        "sync": ["sync", "webinar", str(webinar.id), "--no-events", "--json"],
        "backfill": ["backfill", "--from", str(TODAY - timedelta(days=30)), "--json"],
    }[command]
    with serving(sandbox.app) as base_url:
        result = _backfill(capsys, home, (sandbox, base_url), *args[1:], command=args[0])
    assert result.code == 0, result.err
    calls = Counter(f"{r.method} {NUMBER.sub('/{id}', r.path)}" for r in sandbox.brevo.stats.log)
    return calls, json.loads(result.out)


def test_backfill_of_a_large_webinar_costs_the_brevo_calls_of_sync(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both commands deliver through the same bulk-import path: imports across batches."""
    by_sync, synced = _brevo_calls(capsys, tmp_path, "sync")
    by_backfill, backfilled = _brevo_calls(capsys, tmp_path, "backfill")
    # One import per set of lists (registrants who came, registrants who did not).
    assert by_sync["POST /contacts/import"] == 2
    assert by_backfill == by_sync
    delivery = backfilled["delivery"]
    assert isinstance(delivery, dict)
    assert delivery == synced["delivery"]
    assert delivery["contacts_imported"] == synced["contacts"] > 1_000  # over a batch
