"""With every debug switch on, no secret, token or e-mail address reaches a log line.

Two real processes are watched: ``zoom-brevo demo --debug-logs`` (the whole connector
against the sandbox, as ``debug: true`` + ``log_level: verbose`` log), and ``zoom-brevo
serve`` with ``debug``, ``verbose`` and ``log_webhooks`` on, receiving signed webhooks full
of e-mail addresses while its worker calls the emulators. Their standard error is the log.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from zoom_brevo.sandbox.combined import (
    BREVO_API_KEY,
    WEBHOOK_SECRET,
    ZOOM_CLIENT_SECRET,
    Sandbox,
    build_sandbox,
    sandbox_config,
)
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.sandbox.webhook_sender import WebhookSender, ZoomEvents
from zoom_brevo.server.app import WEBHOOK_PATH

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-c", "from zoom_brevo.cli import main; main()"]
SECRETS = (ZOOM_CLIENT_SECRET, WEBHOOK_SECRET, BREVO_API_KEY)
DEMO_ADDRESSES = ("host@example.com", "rejoin.demo@example.com", "two.devices@example.com")
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
MASKED = r"(?!\*{10})"
TOKEN_VALUES = (
    re.compile(rf"(?i)\bbearer\s+{MASKED}[A-Za-z0-9._~+/=-]{{6,}}"),
    re.compile(rf"(?i)api[-_]?key[\"']?\s*[:=,]\s*[\"'b]*{MASKED}[^\s\"',)}}\]]{{4,}}"),
    re.compile(rf"(?i)(access|refresh)_token[\"']?\s*[:=]\s*[\"']?{MASKED}[^\s\"',}}&]{{6,}}"),
    re.compile(r"\bxkeysib-(?!\*{10})"),
)
DEBUG_SWITCHES = "    debug: true\n    log_level: verbose\n    log_webhooks: true\n"
COLLECT_AT_ONCE = "    collect:\n      delay_s: 0.5\n"  # the worker calls Zoom after meeting.ended


def leaks(log: str, known: tuple[str, ...]) -> list[str]:
    """Each log line that shows a known secret, a token value or an e-mail address."""
    found = []
    for line in log.splitlines():
        shown = [k for k in known if k in line]
        shown += [m.group(0) for m in EMAIL.finditer(line)]
        shown += [m.group(0) for p in TOKEN_VALUES for m in p.finditer(line)]
        if shown:
            found.append(f"{shown}: {line[:300]}")
    return found


def json_lines(log: str) -> list[dict[str, Any]]:
    """The structured (structlog) log lines."""
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


def test_the_leak_detector_finds_what_it_looks_for() -> None:
    assert leaks('{"email": "ann@example.com"}', ())
    assert leaks("Authorization: Bearer abc.def-123", ())
    assert leaks("{'api-key': 'xkeysib-abc'}", ())
    assert leaks('"access_token": "tok123456"', ())
    assert leaks("something sandbox-client-secret", SECRETS)
    assert not leaks('{"authorization": "Bearer **********", "email": "<email:3f1c0a9b2e>"}', ())


def test_the_whole_demo_with_debug_logging_logs_no_secret_and_no_address() -> None:
    run = subprocess.run(
        [*CLI, "demo", "--json", "--debug-logs"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    log = run.stderr

    assert leaks(log, SECRETS + DEMO_ADDRESSES) == []
    assert not [s for s in SECRETS if s in run.stdout]  # the summary shows sandbox people only
    assert len(json_lines(log)) >= 4  # structured lines (delivery batches...)
    summary = json.loads(run.stdout)
    calls = summary["zoom_calls"]["total"] + summary["brevo_calls"]["total"]
    assert calls >= 20  # the demo talks to both APIs: the check above is not vacuous
    assert log.count("HTTP Request:") >= calls  # verbose: every call to Zoom and Brevo


def scenario() -> Scenario:
    sc = Scenario(seed=3)
    host = sc.user(email="host.person@example.com", first_name="Hostia", last_name="Person")
    sc.meeting(host, topic="Leak check", participants=6, recording=True)
    sc.webinar(host, topic="Leak webinar", registrants=4, attendees=2)
    return sc


def webhooks(sc: Scenario) -> list[dict[str, Any]]:
    events = ZoomEvents()
    meeting, webinar = sc.meetings[0].latest, sc.webinars[0]
    sent = [events.started(meeting)]
    for att in meeting.attendances():
        sent += [events.joined(meeting, att, s) for s in att.sessions]
        sent += [events.left(meeting, att, s) for s in att.sessions]
    sent += [events.registration_created(webinar, reg) for reg in webinar.registrants]
    sent += [events.ended(meeting), events.recording_completed(meeting, "dl-token-0123456789")]
    return sent


def worked(box: Sandbox) -> bool:
    """The worker has called Zoom (with a token) and Brevo (with the API key)."""
    return box.zoom.stats.token_requests > 0 and sum(box.brevo.stats.requests.values()) > 0


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


async def send_all(url: str, bodies: list[dict[str, Any]]) -> tuple[list[int], int]:
    """Deliver ``bodies`` signed, then one unsigned request with a bearer header."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        sender = WebhookSender(WEBHOOK_PATH, WEBHOOK_SECRET, client=http)
        statuses = [(await sender.send(body)).status for body in bodies]
        refused = await sender.post(b'{"event":"x"}', {"authorization": "Bearer abc123"})
    return statuses, refused.status


def test_serve_with_webhook_logging_logs_no_secret_token_or_address(tmp_path: Path) -> None:
    sc = scenario()
    box = build_sandbox(sc, prepare_brevo=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bodies = webhooks(sc)
    addresses = set(EMAIL.findall(json.dumps(bodies)))
    with serving(box.app) as sandbox_url:
        text = sandbox_config(sandbox_url, box.list_ids, storage_url=f"sqlite:///{tmp_path}/s.db")
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(
            text.replace("    lists:", f"{DEBUG_SWITCHES}{COLLECT_AT_ONCE}    lists:"), "utf-8"
        )
        # Files, not pipes: debug logging fills a pipe nobody reads, and serve would block.
        out_path, log_path = tmp_path / "serve.out", tmp_path / "serve.log"
        with out_path.open("w") as out_file, log_path.open("w") as log_file:
            process = subprocess.Popen(
                [*CLI, "--config", str(config), "serve", "--port", str(port)],
                stdout=out_file,
                stderr=log_file,
                text=True,
            )
            try:
                wait_healthy(process, url)
                statuses, refused = asyncio.run(send_all(url, bodies))
                deadline = time.monotonic() + 20  # let the worker call Zoom and Brevo
                while not worked(box) and time.monotonic() < deadline:
                    time.sleep(0.2)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        out, log = out_path.read_text(), log_path.read_text()
    tokens = tuple(box.zoom.tokens._access) + tuple(box.zoom.tokens._refresh)

    assert set(statuses) == {200}
    assert refused == 415
    assert len(addresses) >= 5
    assert worked(box) and tokens
    assert leaks(out + log, SECRETS + tokens + tuple(addresses)) == []
    received = [line for line in json_lines(log) if line["event"] == "webhook_received"]
    assert len(received) == len(statuses) + 1
    assert all("<email:" in json.dumps(line["body"]) for line in received if "joined" in
               json.dumps(line["body"]))  # fmt: skip
