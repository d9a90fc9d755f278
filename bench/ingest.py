"""Webhook intake benchmark: the real app vs a bare ASGI app that only answers 200.

Each server runs under uvicorn in its own subprocess (the real one on a SQLite WAL store in
a temporary directory). ``wrk`` (C, one thread) drives it over loopback with a Lua script
that cycles through pre-signed, distinct request bodies (generated up front, timestamps
inside the tolerance window, written to a file the script loads), for ``--duration``
seconds at each concurrency level, so the load generator costs little CPU. After each
level of the real app the inbox rows added are compared with the 200s wrk counted and
the requests it issued (no loss: accepted <= rows <= issued), and the CPU time each server
process used per 200 is reported (read from /proc; steadier than req/s when other jobs
share the cores). Not a test: run it by hand (needs ``wrk``: ``apt-get install -y wrk``),
e.g.

    .venv/bin/python bench/ingest.py --duration 10 --levels 1,10,50,200

``--sync normal`` runs the store with ``PRAGMA synchronous=NORMAL``, ``--max-batch 1``
turns group commit off, ``--http``/``--loop`` pick uvicorn's HTTP parser and event loop.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from zoom_brevo.sandbox.serving import free_port
from zoom_brevo.sandbox.webhook_sender import encode
from zoom_brevo.zoom.webhooks import sign

SECRET = "bench-secret"  # noqa: S105 (signs benchmark traffic only)
PATH = "/webhooks/zoom"


@dataclass
class Result:
    server: str
    concurrency: int
    accepted: int
    seconds: float
    p50_ms: float
    p99_ms: float
    issued: int = 0
    errors: int = 0
    wrapped: bool = False
    rows: int | None = None  # inbox rows this level added (real app only)
    cpu_s: float | None = None  # CPU time the server process used during the level (Linux)

    @property
    def per_s(self) -> float:
        return self.accepted / self.seconds

    @property
    def cpu_ms(self) -> float | None:
        """Server CPU per 200: steadier than req/s when other jobs share the cores."""
        return None if self.cpu_s is None else 1000 * self.cpu_s / max(self.accepted, 1)


def serve(args: argparse.Namespace) -> None:
    """Subprocess side: run the real app or the ceiling app until terminated."""
    import uvicorn  # noqa: PLC0415

    if args.serve == "ceiling":
        app: Any = ceiling_app
    else:
        app = real_app(args.db, args.sync, args.max_batch)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                http=args.http, loop=args.loop)  # fmt: skip


async def ceiling_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the body and answers 200: the most any ASGI app can do on this uvicorn."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = b'{"status":"stored"}'
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def real_app(db: str, sync: str, max_batch: int) -> Any:
    import sqlalchemy as sa  # noqa: PLC0415

    from zoom_brevo.server.app import create_app  # noqa: PLC0415
    from zoom_brevo.server.webhooks import WebhookOptions  # noqa: PLC0415
    from zoom_brevo.store.engine import create_engine, migrate  # noqa: PLC0415

    engine = create_engine(f"sqlite:///{db}")
    if sync != "full":

        @sa.event.listens_for(engine, "connect")
        def _relax(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA synchronous = {sync.upper()}")

    migrate(engine)
    return create_app(WebhookOptions(secret_token=SECRET), engine, max_batch=max_batch)


def requests_for(count: int, tag: str) -> list[tuple[bytes, dict[str, str]]]:
    """Distinct, signed participant_joined webhooks (each a new inbox row)."""
    ts = str(int(time.time()))
    out = []
    for i in range(count):
        body = encode(
            {
                "event": "meeting.participant_joined",
                "event_ts": 1_700_000_000_000 + i,
                "payload": {
                    "account_id": "bench",
                    "object": {
                        "id": "85000000000",
                        "uuid": f"bench-{tag}==",
                        "participant": {
                            "user_id": str(i),
                            "user_name": f"Person {i}",
                            "participant_uuid": f"{tag}-{i}",
                            "email": f"person{i}@example.com",
                            "join_time": "2025-03-01T10:00:00Z",
                        },
                    },
                },
            }
        )
        headers = {
            "content-type": "application/json; charset=utf-8",
            "x-zm-request-timestamp": ts,
            "x-zm-signature": sign(SECRET, ts, body),
        }
        out.append((body, headers))
    return out


LUA = r"""
-- Cycles through pre-signed bodies; thread i takes lines i, i+T, i+2T... (never repeats
-- until it wraps). Lines: timestamp TAB signature TAB body.
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  lines = {}
  for line in io.lines(args[1]) do lines[#lines + 1] = line end
  step, next_index, issued, ok, wrapped = tonumber(args[2]), id + 1, 0, 0, 0
end
function request()
  local ts, sig, body = lines[next_index]:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  next_index = next_index + step
  if next_index > #lines then next_index, wrapped = id + 1, 1 end
  issued = issued + 1
  local headers = {["Content-Type"] = "application/json; charset=utf-8",
                   ["x-zm-request-timestamp"] = ts, ["x-zm-signature"] = sig}
  return wrk.format("POST", "/webhooks/zoom", headers, body)
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 end
end
function done(summary, latency, requests)
  local issued_all, ok_all, wrapped_all = 0, 0, 0
  for _, t in ipairs(threads) do
    issued_all = issued_all + t:get("issued")
    ok_all = ok_all + t:get("ok")
    wrapped_all = wrapped_all + t:get("wrapped")
  end
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"responses":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"issued":%d,' ..
    '"ok":%d,"non2xx":%d,"socket_errors":%d,"wrapped":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    issued_all, ok_all, e.status, e.connect + e.read + e.write + e.timeout, wrapped_all))
end
"""


def write_bodies(path: Path, count: int, tag: str) -> None:
    """``count`` signed, distinct webhooks for the Lua script (timestamp, signature, body)."""
    with path.open("w", encoding="utf-8") as out:
        for body, headers in requests_for(count, tag):
            ts, sig = headers["x-zm-request-timestamp"], headers["x-zm-signature"]
            out.write(f"{ts}\t{sig}\t{body.decode()}\n")


def drive(url: str, server: str, concurrency: int, args: argparse.Namespace, tmp: Path) -> Result:
    """One wrk run at ``concurrency`` connections for ``args.duration`` seconds."""
    bodies = tmp / f"bodies-{server}-{concurrency}.tsv"
    write_bodies(bodies, args.bodies, f"{server}-{concurrency}-{time.time_ns()}")
    script = tmp / "intake.lua"
    script.write_text(LUA, "utf-8")
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{args.duration}s", "--timeout", "10s"]
    command += ["-s", str(script), url, "--", str(bodies), "1"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    bodies.unlink()
    return Result(
        server,
        concurrency,
        accepted=raw["ok"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        issued=raw["issued"],
        errors=raw["non2xx"] + raw["socket_errors"],
        wrapped=bool(raw["wrapped"]),
    )


def start_server(
    kind: str, db: str, args: argparse.Namespace
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, __file__, "--serve", kind, "--port", str(port), "--db", db]
    command += ["--sync", args.sync, "--max-batch", str(args.max_batch)]
    command += ["--http", args.http, "--loop", args.loop]
    process = subprocess.Popen(command)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/healthz", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return process, url
    process.kill()
    raise SystemExit(f"{kind} server did not start")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` and its threads (``None`` without /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stored_rows(db: str) -> int:
    import sqlite3  # noqa: PLC0415

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM inbox").fetchone()[0])


def run(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    levels = [int(x) for x in args.levels.split(",")]
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        db = str(tmp / "bench.db")
        for kind in ("real", "ceiling"):
            process, url = start_server(kind, db, args)
            try:
                for level in levels:
                    before = stored_rows(db) if kind == "real" else 0
                    cpu_before = cpu_seconds(process.pid)
                    result = drive(url, kind, level, args, tmp)
                    cpu_after = cpu_seconds(process.pid)
                    if cpu_before is not None and cpu_after is not None:
                        result.cpu_s = cpu_after - cpu_before
                    time.sleep(0.5)  # requests cut off by wrk's stop may still commit
                    if kind == "real":
                        result.rows = stored_rows(db) - before
                    results.append(result)
            finally:
                process.terminate()
                process.wait(30)
    report(results, args)


def report(results: list[Result], args: argparse.Namespace) -> None:
    by = {(r.server, r.concurrency): r for r in results}
    print(
        f"wrk -t1, {args.duration} s per level, {args.bodies} distinct bodies per level;"
        f" sync={args.sync} max_batch={args.max_batch} http={args.http} loop={args.loop}"
    )
    header = "| concurrency | real accepted/s | real p50 ms | real p99 ms |"
    header += " ceiling req/s | ceiling p50 ms | ceiling p99 ms | real/ceiling |"
    print(header)
    print("|" + "---|" * 8)
    levels = {r.concurrency for r in results}
    for level in sorted(levels):
        real, ceiling = by["real", level], by["ceiling", level]
        print(
            f"| {level} | {real.per_s:.0f} | {real.p50_ms:.1f} | {real.p99_ms:.1f} |"
            f" {ceiling.per_s:.0f} | {ceiling.p50_ms:.1f} | {ceiling.p99_ms:.1f} |"
            f" {real.per_s / ceiling.per_s:.0%} |"
        )
    print()
    print("| concurrency | issued | 200s | inbox rows added | errors | no loss |")
    print("|---|---|---|---|---|---|")
    for r in results:
        if r.server != "real":
            continue
        intact = r.rows is not None and r.accepted <= r.rows <= r.issued and not r.wrapped
        print(f"| {r.concurrency} | {r.issued} | {r.accepted} | {r.rows} | {r.errors} |"
              f" {'yes' if intact else 'NO'} |")  # fmt: skip
    cpu = [(lvl, by["real", lvl].cpu_ms, by["ceiling", lvl].cpu_ms) for lvl in sorted(levels)]
    if all(real is not None and ceiling is not None for _, real, ceiling in cpu):
        print()
        print("| concurrency | real CPU ms per 200 | ceiling CPU ms per 200 |")
        print("|---|---|---|")
        for level, real_ms, ceiling_ms in cpu:
            print(f"| {level} | {real_ms:.2f} | {ceiling_ms:.2f} |")
    for r in results:
        if r.wrapped:
            print(f"WARNING: {r.server} at {r.concurrency} ran out of distinct bodies (--bodies)")
    if args.json:
        print(json.dumps([r.__dict__ for r in results]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per level")
    parser.add_argument("--bodies", type=int, default=60_000, help="distinct bodies per level")
    parser.add_argument("--levels", default="1,10,50,200", help="concurrency levels")
    parser.add_argument("--sync", choices=["full", "normal"], default="full")
    parser.add_argument("--max-batch", type=int, default=200, help="group-commit batch size")
    parser.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto")
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto")
    parser.add_argument("--json", action="store_true", help="also print the raw results")
    parser.add_argument("--serve", choices=["real", "ceiling"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
    else:
        os.environ.setdefault("PYTHONHASHSEED", "0")
        run(args)


if __name__ == "__main__":
    main()
