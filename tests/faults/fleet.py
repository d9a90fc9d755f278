"""The connector's processes for the kill test: servers, workers and a backfill, as the CLI.

Every process is ``python -c "from zoom_brevo.cli import main; main()" --config ...``, as
in ``tests/acceptance/test_realtime.py``; each incarnation logs to its own file, so that a
restarted process that crashes shows its own traceback.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

CLI = [sys.executable, "-c", "from zoom_brevo.cli import main; main()"]
STOP_WITHIN_S = 20.0


@dataclass
class Proc:
    """One named role (``server-0``, ``worker-1``, ``backfill``) and its current process."""

    name: str
    args: list[str]
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    starts: int = 0

    @property
    def running(self) -> bool:
        """Whether the current process is alive."""
        return self.process is not None and self.process.poll() is None


@dataclass
class Fleet:
    """Starts, kills (SIGKILL) and restarts the connector's processes; keeps their logs."""

    config: Path
    logs: Path
    procs: dict[str, Proc] = field(default_factory=dict)

    def add(self, name: str, *args: str) -> Proc:
        """Declare a role and start its first process."""
        proc = Proc(name, ["--config", str(self.config), *args])
        self.procs[name] = proc
        self.start(proc)
        return proc

    def start(self, proc: Proc) -> None:
        """Start (again) the process of ``proc``."""
        proc.starts += 1
        proc.log = self.logs / f"{proc.name}.{proc.starts}.log"
        with proc.log.open("wb") as out:
            proc.process = subprocess.Popen(
                [*CLI, *proc.args], stdout=out, stderr=subprocess.STDOUT
            )

    def kill(self, proc: Proc) -> None:
        """SIGKILL the current process of ``proc`` and reap it."""
        assert proc.process is not None
        proc.process.send_signal(signal.SIGKILL)
        proc.process.wait()

    def terminate(self, proc: Proc) -> int | None:
        """SIGTERM the current process of ``proc`` and wait for it to exit; its exit code
        (``None``: it did not exit within ``STOP_WITHIN_S`` and was killed)."""
        assert proc.process is not None
        proc.process.terminate()
        try:
            return proc.process.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            proc.process.kill()
            proc.process.wait()
            return None

    def wait_ready(self, proc: Proc, within_s: float = 60.0) -> None:
        """Wait until the current process of ``proc`` is up: a server answers ``/healthz``,
        a worker has logged its lease owner (``worker_leases``, once its store is open)."""
        deadline = time.monotonic() + within_s
        while not self._ready(proc):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{proc.name} not ready within {within_s} s")
            time.sleep(0.1)

    def _ready(self, proc: Proc) -> bool:
        if "--port" in proc.args:
            port = proc.args[proc.args.index("--port") + 1]
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False
        assert proc.log is not None
        return "worker_leases" in proc.log.read_text(errors="replace")

    def crashed(self) -> list[str]:
        """Roles (other than ``backfill``) whose process exited without being killed."""
        return [
            name
            for name, proc in self.procs.items()
            if name != "backfill" and proc.process is not None and proc.process.poll() is not None
        ]

    def stop_all(self) -> dict[str, int]:
        """SIGTERM every process still running; their exit codes."""
        running = [p for p in self.procs.values() if p.running]
        for proc in running:
            assert proc.process is not None
            proc.process.terminate()
        codes = {}
        for proc in running:
            assert proc.process is not None
            try:
                codes[proc.name] = proc.process.wait(timeout=STOP_WITHIN_S)
            except subprocess.TimeoutExpired:
                proc.process.kill()
                codes[proc.name] = proc.process.wait()
        return codes

    def tracebacks(self) -> str:
        """Every log that holds a Python traceback, concatenated."""
        found = []
        for log in sorted(self.logs.glob("*.log")):
            text = log.read_text(errors="replace")
            if "Traceback" in text:
                found.append(f"--- {log.name}\n{text[-4000:]}")
        return "\n".join(found)


def wait_healthy(urls: list[str], within_s: float = 30.0) -> None:
    """Wait until every server answers ``/healthz``."""
    deadline = time.monotonic() + within_s
    for url in urls:
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not become healthy")
            time.sleep(0.1)
