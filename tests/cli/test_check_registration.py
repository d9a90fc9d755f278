"""``check`` verifies each ``connectors.zoom.registration.from_lists`` entry against the
sandbox over loopback: the Brevo list exists, the Zoom webinar exists and takes
registration, the occurrence named is one still to come; each problem is named by key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.helpers import Result, invoke
from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config, small_scenario
from zoom_brevo.sandbox.scenario import Webinar
from zoom_brevo.sandbox.serving import serving

KEY = "connectors.zoom.registration.from_lists"
UNKNOWN_WEBINAR = 89_999_999_999


def occurrence_id(scheduled: datetime) -> str:
    """Zoom's occurrence id: the scheduled start in milliseconds since the epoch."""
    return str(round(scheduled.timestamp() * 1000))


class World:
    def __init__(self, url: str, lists: dict[str, int], weekly: Webinar, closed: Webinar):
        self.url, self.lists, self.weekly, self.closed = url, lists, weekly, closed

    def config(self, tmp_path: Path, entries: list[str]) -> Path:
        block = "".join(f"        - {{{e}}}\n" for e in entries)
        text = sandbox_config(self.url, self.lists).replace(
            "brevo:\n", f"    registration:\n      from_lists:\n{block}brevo:\n", 1
        )
        path = tmp_path / "zoom-brevo.yaml"
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    sc = small_scenario()
    host = sc.users[0]
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=21)
    weekly = sc.webinar(host, topic="Weekly", registrants=0, attendees=0, instances=3, start=start)
    closed = sc.webinar(host, topic="Closed", registrants=0, attendees=0, start=start)
    closed.approval_type = 2  # registration not required (official spec: approval_type 2)
    box = build_sandbox(sc, prepare_brevo=True)
    with serving(box.app) as url:
        yield World(url, dict(box.list_ids), weekly, closed)


def _check(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> Result:
    return invoke(capsys, ["--config", str(path), "check", *extra])


def test_lists_and_webinars_that_take_registration_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], world: World
) -> None:
    list_id = world.lists["webinar_registrants"]
    second = occurrence_id(world.weekly.instances[1].scheduled_start)
    config = world.config(tmp_path, [
        f"list_id: {list_id}, webinar_id: {world.weekly.id}",
        f"list_id: {list_id}, webinar_id: {world.weekly.id}, occurrence_id: '{second}'",
    ])  # fmt: skip
    result = _check(capsys, config)
    assert result.code == 0, result.err
    assert "Registration from lists" in result.out
    assert "2 list(s) and webinar(s) ready" in result.out


def test_each_broken_entry_is_reported_by_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], world: World
) -> None:
    list_id = world.lists["webinar_registrants"]
    config = world.config(tmp_path, [
        f"list_id: {list_id}, webinar_id: {world.weekly.id}",  # fine
        f"list_id: 999, webinar_id: {world.weekly.id}",
        f"list_id: {list_id}, webinar_id: {UNKNOWN_WEBINAR}",
        f"list_id: {list_id}, webinar_id: {world.closed.id}",
        f"list_id: {list_id}, webinar_id: {world.weekly.id}, occurrence_id: '1648194360000'",
    ])  # fmt: skip
    result = _check(capsys, config, "--json")
    assert result.code == 1
    assert len(result.err_lines) == 1
    document = json.loads(result.out)
    problems = document["registration"]["problems"]
    assert document["registration"]["entries"] == 5
    assert [p.split(":", 1)[0] for p in problems] == [f"{KEY}[{i}]" for i in (1, 2, 3, 4)]
    assert "Brevo has no list 999" in problems[0]
    assert f"Zoom has no webinar {UNKNOWN_WEBINAR}" in problems[1]
    assert f"webinar {world.closed.id} takes no registration" in problems[2]
    assert "Registration > Required" in problems[2]
    assert "no occurrence 1648194360000" in problems[3]
    upcoming = [occurrence_id(i.scheduled_start) for i in world.weekly.instances]
    assert all(o in problems[3] for o in upcoming)  # the ids to choose from
    assert problems == document["problems"][-4:]
    assert document["ok"] is False


def test_without_entries_nothing_is_asked_or_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], world: World
) -> None:
    config = tmp_path / "zoom-brevo.yaml"
    config.write_text(sandbox_config(world.url, world.lists), encoding="utf-8")
    result = _check(capsys, config)
    assert result.code == 0, result.err
    assert "Registration from lists" not in result.out
