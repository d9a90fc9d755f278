"""`zoom-brevo serve` as a real process: it says where it listens, in the one log format."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config
from zoom_brevo.sandbox.serving import free_port, serving

from .test_serve_command import start, terminate, wait_healthy

pytestmark = pytest.mark.slow
# ConsoleRenderer's line: ISO time, [level padded], then the event or the message.
CONSOLE_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z \[(debug|info|warning|error) *\] \S")
ADMIN = "server:\n  admin_token: t0ken-t0ken\n"


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    """A configuration pointing at a running sandbox and a new SQLite store (migrations run)."""
    box = build_sandbox(prepare_brevo=True)
    with serving(box.app) as sandbox_url:
        path = tmp_path / "zoom-brevo.yaml"
        storage = f"sqlite:///{tmp_path / 'store.db'}"
        path.write_text(sandbox_config(sandbox_url, box.list_ids, storage_url=storage), "utf-8")
        yield path


def serve_log(config: Path, *extra: str) -> tuple[str, list[str]]:
    """Start serve on a fresh store, wait until healthy, stop it; (base URL, its log lines)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(["--config", str(config), "serve", "--port", str(port), *extra])
    try:
        wait_healthy(process, url)
        assert httpx.get(f"{url}/metrics", timeout=5).status_code == 200
    finally:
        code, err, _ = terminate(process)
    assert code == 0, err
    return url, [line for line in err.splitlines() if line.strip()]


def test_serve_logs_where_it_listens_once_and_every_line_is_json_with_debug(
    config: Path,
) -> None:
    text = config.read_text("utf-8")
    config.write_text(text.replace("    webhook:", "    debug: true\n    webhook:") + ADMIN)
    url, lines = serve_log(config)
    records = [json.loads(line) for line in lines]  # Alembic's lines too: no plain text
    assert all({"event", "level", "timestamp"} <= record.keys() for record in records)
    alembic = [r for r in records if r.get("logger", "").startswith("alembic")]
    assert any(r["event"].startswith("Running upgrade") for r in alembic), lines
    listening = [r for r in records if r["event"] == "serve_listening"]
    assert len(listening) == 1
    assert listening[0]["webhook_url"] == f"{url}/webhooks/zoom"
    assert listening[0]["admin_url"] == f"{url}/admin"
    assert listening[0]["metrics_url"] == f"{url}/metrics"
    assert listening[0]["worker"] == "in-process"


def test_serve_console_lines_share_one_format_and_say_admin_is_off(config: Path) -> None:
    url, lines = serve_log(config, "--no-worker")
    odd = [line for line in lines if not CONSOLE_LINE.match(line)]
    assert odd == []
    assert any("[alembic.runtime.migration]" in line for line in lines)
    listening = [line for line in lines if "serve_listening" in line]
    assert len(listening) == 1
    assert f"webhook_url={url}/webhooks/zoom" in listening[0]
    assert f"metrics_url={url}/metrics" in listening[0]
    assert "admin='off (set server.admin_token)'" in listening[0]
    assert "worker='off (--no-worker)'" in listening[0]


def test_serve_answers_brevo_webhooks_when_their_token_is_set(config: Path) -> None:
    token = "serve-brevo-token-0123"
    registration = (
        "    registration:\n      from_lists:\n        - {list_id: 12, webinar_id: 8471}\n"
        f'      brevo_webhook_token: "{token}"\n'
    )
    text = config.read_text("utf-8")
    config.write_text(text.replace("    webhook:", registration + "    webhook:"), "utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(["--config", str(config), "serve", "--no-worker", "--port", str(port)])
    try:
        wait_healthy(process, url)
        hook = f"{url}/webhooks/brevo"
        body = {"event": "list_addition", "email": "a@example.com", "list_id": [99]}
        refused = httpx.post(hook, json=body, headers={"Authorization": "Bearer nope"})
        ignored = httpx.post(hook, json=body, headers={"Authorization": f"Bearer {token}"})
    finally:
        code, err, _ = terminate(process)
    assert code == 0, err
    assert refused.status_code == 401
    assert (ignored.status_code, ignored.json()) == (200, {"status": "ignored"})
    (listening,) = [line for line in err.splitlines() if "serve_listening" in line]
    assert f"brevo_webhook_url={hook}" in listening
    assert token not in err
