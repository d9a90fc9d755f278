"""`zoom-brevo serve` and `zoom-brevo worker` as real processes: intake, then SIGTERM -> exit 0."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SERIAL
from zoom_brevo.crypto import generate_key
from zoom_brevo.sandbox.combined import WEBHOOK_SECRET, build_sandbox, sandbox_config
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.sandbox.webhook_sender import WebhookSender
from zoom_brevo.server.app import WEBHOOK_PATH
from zoom_brevo.store.engine import create_engine

from .conftest import stored
from .test_webhook_endpoint import STARTED

pytestmark = [pytest.mark.slow, SERIAL]
CLI = [sys.executable, "-c", "from zoom_brevo.cli import main; main()"]
EXIT_WITHIN_S = 8.0


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    """A configuration pointing at a running sandbox and a temporary SQLite store."""
    box = build_sandbox(prepare_brevo=True)
    with serving(box.app) as sandbox_url:
        path = tmp_path / "zoom-brevo.yaml"
        storage = f"sqlite:///{tmp_path / 'store.db'}"
        path.write_text(sandbox_config(sandbox_url, box.list_ids, storage_url=storage), "utf-8")
        yield path


def start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_healthy(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 60  # start-up time is not what is tested
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("serve did not become healthy")


def terminate(process: subprocess.Popen[str]) -> tuple[int, str, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=EXIT_WITHIN_S + 5)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return process.returncode, err, time.monotonic() - started


async def test_serve_stores_signed_webhooks_and_exits_0_on_sigterm(
    config: Path, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(["--config", str(config), "serve", "--port", str(port)])
    try:
        wait_healthy(process, url)
        async with httpx.AsyncClient(base_url=url) as http:
            sender = WebhookSender(WEBHOOK_PATH, WEBHOOK_SECRET, client=http)
            delivery = await sender.send(STARTED)
            ready = await http.get("/readyz")
    finally:
        code, err, took = terminate(process)

    assert delivery.status == 200
    assert ready.status_code == 200
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    assert [row.raw_body for row in stored(engine)] == [delivery.body]
    engine.dispose()
    assert code == 0, err
    assert took < EXIT_WITHIN_S
    assert "Traceback" not in err


def test_serve_mounts_the_oauth_routes_next_to_admin(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    box = build_sandbox(prepare_brevo=True)
    with serving(box.app) as sandbox_url:
        text = sandbox_config(sandbox_url, storage_url=f"sqlite:///{tmp_path / 'store.db'}")
        oauth = f"    oauth:\n      redirect_uri: {url}/oauth/callback\n"
        text = text.replace("    lists:", f"{oauth}    lists:")
        text += f"  encryption_key: {generate_key()}\nserver:\n  admin_token: t0ken-t0ken\n"
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(text, "utf-8")
        process = start(["--config", str(config), "serve", "--no-worker", "--port", str(port)])
        try:
            wait_healthy(process, url)
            authorize = httpx.get(f"{url}/oauth/authorize", timeout=5)
            login = httpx.get(f"{url}/admin/login", timeout=5)
        finally:
            code, err, _ = terminate(process)
    assert authorize.status_code == 302, authorize.text
    assert authorize.headers["location"].startswith(f"{sandbox_url}/zoom/oauth/authorize?")
    assert login.status_code == 200
    assert code == 0, err


def wait_for_log(process: subprocess.Popen[str], event: str, max_lines: int = 50) -> None:
    assert process.stderr is not None
    seen: list[str] = []
    for _ in range(max_lines):
        seen.append(process.stderr.readline())
        if event in seen[-1] or not seen[-1]:
            break
    assert event in seen[-1], "".join(seen)


def test_worker_runs_until_sigterm_and_exits_0(config: Path) -> None:
    process = start(["--config", str(config), "worker"])
    try:
        wait_for_log(process, "worker_started")
        time.sleep(0.5)  # let it poll the (empty) outbox
    finally:
        code, err, took = terminate(process)
    assert code == 0, err
    assert took < EXIT_WITHIN_S
    assert "Traceback" not in err


def test_serve_without_a_webhook_secret_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "zoom-brevo.yaml"
    config_text = sandbox_config("http://127.0.0.1:9", storage_url=f"sqlite:///{tmp_path}/s.db")
    webhook = f"    webhook:\n      secret_token: {WEBHOOK_SECRET}\n"
    assert webhook in config_text
    path.write_text(config_text.replace(webhook, ""), "utf-8")
    result = subprocess.run(
        [*CLI, "--config", str(path), "serve"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "connectors.zoom.webhook.secret_token" in result.stderr
