"""Start a bench's own sandbox subprocess (``SCRIPT serve ...``) and wait until it answers.

The bench scripts serve their emulators from a child process of themselves, so that the
command under test is measured alone; each prints one JSON line of set-up facts and then
answers ``GET /bench/stats``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import httpx

from zoom_brevo.sandbox.serving import free_port


def start_sandbox(
    script: str, serve_args: list[str], *, start_timeout_s: float, stats_timeout_s: float
) -> tuple[subprocess.Popen[str], str, dict[str, Any]]:
    """Run ``script serve --port P *serve_args``; the process, its base URL and the JSON
    line it printed first. Exits with a message when it does not answer in time."""
    port = free_port()
    command = [sys.executable, script, "serve", "--port", str(port), *serve_args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    info = json.loads(process.stdout.readline() or "{}")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_timeout_s
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/bench/stats", timeout=stats_timeout_s)
        except httpx.TransportError:
            time.sleep(0.2)
        else:
            return process, base, info
    process.kill()
    raise SystemExit(f"the sandbox of {script} did not start")
