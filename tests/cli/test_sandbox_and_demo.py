"""``sandbox`` serves both emulators where the printed configuration says (``demo``: test_demo)."""

from __future__ import annotations

import contextlib
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.helpers import invoke
from zoom_brevo.config import parse_settings
from zoom_brevo.demo import demo_scenario
from zoom_brevo.sandbox import combined
from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config
from zoom_brevo.sandbox.serving import free_port, serving

_START_TIMEOUT_S = 20.0
_COMMAND_TIMEOUT_S = 120.0
CLI = [sys.executable, "-c", "from zoom_brevo.cli import main; main()"]
README = Path(__file__).resolve().parents[2] / "README.md"


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        return
    pytest.fail(f"sandbox did not answer at {url}")


def test_sandbox_command_serves_what_its_printed_config_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from zoom_brevo.cli import main; main()", "sandbox",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{port}/brevo/v3/account")
        config = tmp_path / "zoom-brevo.yaml"
        process.terminate()
        out, err = process.communicate(timeout=_START_TIMEOUT_S)
    finally:
        process.kill()
    assert "Traceback" not in err
    assert f"http://127.0.0.1:{port}/zoom/v2" in out
    assert combined.ZOOM_CLIENT_SECRET in out
    # The printed snippet is a complete configuration: check passes against a sandbox.
    box = build_sandbox(prepare_brevo=True)
    with serving(box.app, port=port) as base_url:
        assert base_url == f"http://127.0.0.1:{port}"
        config.write_text(out, encoding="utf-8")
        result = invoke(capsys, ["--config", str(config), "check"])
    assert result.code == 0, result.err


def test_sandbox_answers_zoom_and_brevo_under_their_prefixes() -> None:
    box = build_sandbox()
    with serving(box.app) as base_url:
        token = httpx.post(
            f"{base_url}/zoom/oauth/token",
            params={"grant_type": "account_credentials", "account_id": combined.ZOOM_ACCOUNT_ID},
            auth=(combined.ZOOM_CLIENT_ID, combined.ZOOM_CLIENT_SECRET),
        )
        account = httpx.get(f"{base_url}/brevo/v3/account", headers={"api-key": "xkeysib-sandbox"})
    assert token.status_code == 200
    assert "access_token" in token.json()
    assert account.status_code == 200


def test_sandbox_config_loads_and_points_at_the_sandbox() -> None:
    settings = parse_settings(sandbox_config("http://127.0.0.1:9", {"webinar_attendees": 2}), {})
    assert settings.connectors.zoom.api_base_url == "http://127.0.0.1:9/zoom/v2"
    assert settings.connectors.zoom.oauth_base_url == "http://127.0.0.1:9/zoom"
    assert settings.brevo.base_url == "http://127.0.0.1:9/brevo/v3"
    assert settings.connectors.zoom.lists.ids() == {"webinar_attendees": 2}


def test_sandbox_on_a_busy_port_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = invoke(capsys, ["sandbox", "--port", str(port)])
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert str(port) in result.err and "--port" in result.err


@contextlib.contextmanager
def sandbox_process(workdir: Path, config_name: str = "sandbox.yaml") -> Iterator[str]:
    """``zoom-brevo sandbox`` on a free port, stdout to ``workdir/config_name``, stderr to
    ``workdir/sandbox.err``, as a user would start it; yield its base URL."""
    port = free_port()
    with (workdir / config_name).open("w") as out, (workdir / "sandbox.err").open("w") as err:
        process = subprocess.Popen(
            [*CLI, "sandbox", "--port", str(port)], stdout=out, stderr=err, cwd=workdir
        )
        try:
            _wait_for(f"http://127.0.0.1:{port}/brevo/v3/account")
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=_START_TIMEOUT_S)


def test_sandbox_lists_what_it_holds_and_the_commands_to_try_on_start(tmp_path: Path) -> None:
    world = demo_scenario().scenario
    with sandbox_process(tmp_path) as base_url:
        listing = (tmp_path / "sandbox.err").read_text(encoding="utf-8")
        config = (tmp_path / "sandbox.yaml").read_text(encoding="utf-8")
    assert "Traceback" not in listing
    assert f"{base_url}/zoom/v2" in listing and f"{base_url}/brevo/v3" in listing
    assert f"api_base_url: {base_url}/zoom/v2" in config  # written while it runs
    lines = listing.splitlines()
    held = [*world.meetings, *world.webinars]
    assert len(held) == 2
    for parent, kind in zip(held, ("meeting", "webinar"), strict=True):
        assert any(line.split()[:2] == [kind, str(parent.id)] for line in lines), listing
        for inst in parent.instances:
            assert any(inst.uuid in line for line in lines), inst.uuid
        command = f"zoom-brevo --config sandbox.yaml sync {kind} {parent.id}"
        assert command in [line.strip() for line in lines]
    assert "500 registrants" in listing  # the demo's webinar, not a small one


def readme_sandbox_block() -> list[str]:
    """The README's commands to try against the sandbox (its fenced block starting one)."""
    text = README.read_text(encoding="utf-8")
    blocks = [b for b in text.split("```") if "zoom-brevo sandbox >" in b]
    assert len(blocks) == 1
    return [line.strip() for line in blocks[0].splitlines()[1:] if line.strip()]


def test_the_readmes_sandbox_commands_work_against_a_started_sandbox(tmp_path: Path) -> None:
    start, *commands = readme_sandbox_block()
    config_name = shlex.split(start, comments=True)[-2]
    assert shlex.split(start, comments=True)[1:] == ["sandbox", ">", config_name, "&"]
    assert any(" sync meeting " in c for c in commands)
    assert any(" sync webinar " in c for c in commands)
    with sandbox_process(tmp_path, config_name):
        for command in commands:
            program, *args = shlex.split(command, comments=True)
            assert program == ".venv/bin/zoom-brevo"
            done = subprocess.run(
                [*CLI, *args], cwd=tmp_path, capture_output=True, text=True,
                check=False, timeout=_COMMAND_TIMEOUT_S,
            )  # fmt: skip
            assert done.returncode == 0, f"{command}: {done.stderr}"
            assert "Traceback" not in done.stderr


def test_setup_brevo_on_a_started_sandbox_shows_what_it_creates_then_creates_nothing(
    tmp_path: Path,
) -> None:
    def setup_brevo() -> str:
        done = subprocess.run(
            [*CLI, "--config", "sandbox.yaml", "setup-brevo"], cwd=tmp_path,
            capture_output=True, text=True, check=False, timeout=_COMMAND_TIMEOUT_S,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    with sandbox_process(tmp_path):
        first, second = setup_brevo(), setup_brevo()
    created = [line.strip() for line in first.splitlines() if "created" in line]
    # A new Brevo account: the connector's attributes, its folder and each list are created.
    assert "attribute ZOOM_ENGAGEMENT_SCORE (float): created" in created
    assert "folder 'Zoom': created" in created
    for role in ("meeting_participants", "webinar_attendees", "webinar_registrants"):
        assert any(line.startswith(f"list {role}: created") for line in created), first
    assert "created" not in second
    assert "attribute ZOOM_ENGAGEMENT_SCORE: OK" in second
