"""Webhook intake benchmark: the real app vs a bare ASGI app that only answers 200.

Each server runs in its own subprocess through ``server.runner.run_server``, as ``serve``
runs it (same uvicorn stack and settings; the real one on a SQLite WAL store in a temporary
directory). ``wrk`` (C) drives it over loopback with a Lua script that cycles through
pre-signed, distinct request bodies (generated up front, timestamps inside the tolerance
window, written to a file the script loads), for ``--duration`` seconds at each
concurrency level, so the load generator costs little CPU. After each level of the real
app the inbox rows added are compared with the 200s wrk counted and the requests it issued
(no loss: accepted <= rows <= issued), and the CPU time the server processes used per 200
is reported (read from /proc; steadier than req/s when other jobs share the cores). Not a
test: run it by hand (needs ``wrk``: ``apt-get install -y wrk``), e.g.

    .venv/bin/python bench/ingest.py --duration 10 --levels 1,10,50,200

``--servers 1,2,3`` runs that many server processes side by side on one store (each like
``serve --no-worker``) instead, the real app and then the ceiling, with one wrk thread per
server (the connections split evenly), and reports accepted/s per server count;
``--store postgres`` puts the store in a fresh schema of ``--pg`` (dropped afterwards).

``--rounds N`` repeats everything N times, the real app and the ceiling (and the server
counts) taking turns, and reports medians, real/ceiling paired within each round: on a
machine whose cores other jobs share, one round says little.

``--sync normal`` runs the SQLite store with ``PRAGMA synchronous=NORMAL``, ``--max-batch
1`` turns group commit off, ``--http``/``--loop`` pick uvicorn's HTTP parser and event loop
(default: what ``serve`` uses).

This load is closed-loop (each connection waits for its answer before the next request);
``bench/ingest_open.py`` sends at a fixed arrival rate instead, on the same servers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import httpx
import sqlalchemy as sa

from zoom_brevo.sandbox.serving import free_port
from zoom_brevo.sandbox.webhook_sender import encode
from zoom_brevo.zoom.webhooks import sign

SECRET = "bench-secret"  # noqa: S105 (signs benchmark traffic only)
PATH = "/webhooks/zoom"
DEFAULT_PG = os.environ.get(
    "ZOOM_BREVO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


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
    cpu_s: float | None = None  # CPU time the server processes used during the level (Linux)
    servers: int = 1

    @property
    def per_s(self) -> float:
        return self.accepted / self.seconds

    @property
    def cpu_ms(self) -> float | None:
        """Server CPU per 200: steadier than req/s when other jobs share the cores."""
        return None if self.cpu_s is None else 1000 * self.cpu_s / max(self.accepted, 1)

    @property
    def intact(self) -> bool:
        """Every 200 has its row, and no row came from nowhere (real app only)."""
        return self.rows is not None and self.accepted <= self.rows <= self.issued

    @property
    def ran_out(self) -> bool:
        """The real app saw a body twice (a duplicate, not a new row): raise ``--bodies``."""
        return self.wrapped and self.server == "real"


# --- the server subprocess ---------------------------------------------------------------


def serve(args: argparse.Namespace) -> None:
    """Subprocess side: run the real app or the ceiling app until terminated."""
    from zoom_brevo.server.runner import run_server  # noqa: PLC0415

    if args.serve == "ceiling":
        app: Any = ceiling_app
    else:
        app = real_app(args.db, args.sync, args.max_batch)
    run_server(app, host="127.0.0.1", port=args.port, http=args.http, loop=args.loop)


async def ceiling_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the body and answers 200: the most any ASGI app can do on this uvicorn."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = b'{"status":"stored"}'
    headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def real_app(url: str, sync: str, max_batch: int) -> Any:
    """The app ``serve --no-worker`` runs, on the store at ``url`` (already migrated)."""
    from zoom_brevo.server.app import create_app  # noqa: PLC0415
    from zoom_brevo.server.webhooks import WebhookOptions  # noqa: PLC0415
    from zoom_brevo.store.engine import create_engine  # noqa: PLC0415

    engine = create_engine(url)
    if sync != "full":

        @sa.event.listens_for(engine, "connect")
        def _relax(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA synchronous = {sync.upper()}")

    return create_app(WebhookOptions(secret_token=SECRET), engine, max_batch=max_batch)


# --- the load ------------------------------------------------------------------------------


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
-- until it wraps) and talks to server i mod S. Lines: timestamp TAB signature TAB body.
local ports = {PORTS}
local threads = {}
function setup(thread)
  local index = #threads
  thread:set("id", index)
  thread.addr = wrk.lookup("127.0.0.1", tostring(ports[index % #ports + 1]))[1]
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


def drive(
    ports: list[int], server: str, concurrency: int, args: argparse.Namespace, tmp: Path
) -> Result:
    """One wrk run at ``concurrency`` connections, one thread per server in ``ports``."""
    bodies = tmp / f"bodies-{server}-{concurrency}.tsv"
    write_bodies(bodies, args.bodies, f"{server}-{concurrency}-{time.time_ns()}")
    script = tmp / "intake.lua"
    script.write_text(LUA.replace("PORTS", ", ".join(map(str, ports))), "utf-8")
    threads = len(ports)
    command = ["wrk", f"-t{threads}", f"-c{max(concurrency, threads)}", f"-d{args.duration}s"]
    command += ["--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{ports[0]}"]
    command += ["--", str(bodies), str(threads)]
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
        servers=threads,
    )


# --- servers and the store -----------------------------------------------------------------


@contextlib.contextmanager
def servers(
    kind: str, count: int, db: str, args: argparse.Namespace
) -> Iterator[list[tuple[subprocess.Popen[bytes], int]]]:
    """``count`` server processes of ``kind`` on store ``db``, stopped on exit."""
    started: list[tuple[subprocess.Popen[bytes], int]] = []
    try:
        started.extend(start_server(kind, db, args) for _ in range(count))
        yield started
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.wait(30)


def start_server(
    kind: str, db: str, args: argparse.Namespace
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, __file__, "--serve", kind, "--port", str(port), "--db", db]
    command += ["--sync", args.sync, "--max-batch", str(args.max_batch)]
    command += ["--http", args.http, "--loop", args.loop]
    process = subprocess.Popen(command)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return process, port
    process.kill()
    raise SystemExit(f"{kind} server did not start")


@contextlib.contextmanager
def store(args: argparse.Namespace, tmp: Path, name: str) -> Iterator[str]:
    """A new, migrated store: a SQLite file in ``tmp``, or a fresh PostgreSQL schema."""
    from zoom_brevo.store.engine import create_engine, migrate  # noqa: PLC0415

    if args.store == "sqlite":
        url = f"sqlite:///{tmp / f'{name}.db'}"
        schema = None
    else:
        schema = f"zb_bench_{uuid.uuid4().hex[:10]}"
        with contextlib.closing(sa.create_engine(args.pg).connect()) as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            conn.commit()
        query = {"options": f"-csearch_path={schema}"}
        url = sa.make_url(args.pg).update_query_dict(query).render_as_string(hide_password=False)
    engine = create_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield url
    finally:
        if schema is not None:
            with contextlib.closing(sa.create_engine(args.pg).connect()) as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                conn.commit()


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU time of processes ``pids`` and their threads (``None`` without /proc)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def stored_rows(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM inbox")).scalar_one())
    finally:
        engine.dispose()


# --- the runs ----------------------------------------------------------------------------


def measure(kind: str, count: int, url: str, args: argparse.Namespace, tmp: Path) -> list[Result]:
    """Every level against ``count`` servers of ``kind`` sharing the store at ``url``."""
    results = []
    with servers(kind, count, url, args) as running:
        pids = [process.pid for process, _ in running]
        ports = [port for _, port in running]
        for level in levels_of(args):
            before = stored_rows(url) if kind == "real" else 0
            cpu_before = cpu_seconds(pids)
            result = drive(ports, kind, level, args, tmp)
            cpu_after = cpu_seconds(pids)
            if cpu_before is not None and cpu_after is not None:
                result.cpu_s = cpu_after - cpu_before
            time.sleep(0.5)  # requests cut off by wrk's stop may still commit
            if kind == "real":
                result.rows = stored_rows(url) - before
            results.append(result)
    return results


def levels_of(args: argparse.Namespace) -> list[int]:
    return [int(x) for x in args.levels.split(",")]


def run(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    counts = [int(x) for x in args.servers.split(",")] if args.servers else [1]
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for round_ in range(args.rounds):
            for count in counts:
                with store(args, tmp, f"store-{round_}-{count}") as url:
                    results += measure("real", count, url, args, tmp)
                results += measure("ceiling", count, "", args, tmp)
    for r in results:
        if r.ran_out:
            print(f"WARNING: real at {r.concurrency} ran out of distinct bodies (--bodies)")
    print(settings_line(args))
    cells = summarize(results)
    if args.servers:
        report_servers(cells)
    else:
        report(cells)
    print()
    report_loss(results)
    if args.json:
        print(json.dumps([r.__dict__ for r in results]))


def settings_line(args: argparse.Namespace) -> str:
    from zoom_brevo.server.runner import stack  # noqa: PLC0415

    http, loop = stack(args.http, args.loop)
    store_name = "PostgreSQL" if args.store == "postgres" else f"SQLite sync={args.sync}"
    rounds = f"; median of {args.rounds} interleaved rounds" if args.rounds > 1 else ""
    return (
        f"wrk, {args.duration} s per level, {args.bodies} distinct bodies per level;"
        f" uvicorn http={http} loop={loop}; {store_name}, max_batch={args.max_batch}{rounds}"
    )


@dataclass
class Cell:
    """The medians of one (server kind, server count, concurrency) over the rounds."""

    per_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float | None
    ratio: float  # real / ceiling of the same round and server count (1.0 for the ceiling)


def summarize(results: list[Result]) -> dict[tuple[str, int, int], Cell]:
    """Medians per (kind, servers, concurrency); ratios are paired within each round."""
    runs: dict[tuple[str, int, int], list[Result]] = {}
    for r in results:
        runs.setdefault((r.server, r.servers, r.concurrency), []).append(r)
    cells = {}
    for key, group in runs.items():
        _, count, level = key
        ceilings = runs["ceiling", count, level]
        cpu = [r.cpu_ms for r in group if r.cpu_ms is not None]
        cells[key] = Cell(
            per_s=median(r.per_s for r in group),
            p50_ms=median(r.p50_ms for r in group),
            p99_ms=median(r.p99_ms for r in group),
            cpu_ms=median(cpu) if len(cpu) == len(group) else None,
            ratio=median(r.per_s / c.per_s for r, c in zip(group, ceilings, strict=True)),
        )
    return cells


def report(cells: dict[tuple[str, int, int], Cell]) -> None:
    levels = sorted({level for _, _, level in cells})
    header = "| concurrency | real accepted/s | real p50 ms | real p99 ms |"
    header += " ceiling req/s | ceiling p50 ms | ceiling p99 ms | real/ceiling |"
    print(header)
    print("|" + "---|" * 8)
    for level in levels:
        real, ceiling = cells["real", 1, level], cells["ceiling", 1, level]
        print(
            f"| {level} | {real.per_s:.0f} | {real.p50_ms:.1f} | {real.p99_ms:.1f} |"
            f" {ceiling.per_s:.0f} | {ceiling.p50_ms:.1f} | {ceiling.p99_ms:.1f} |"
            f" {real.ratio:.0%} |"
        )
    if all(cells[kind, 1, level].cpu_ms is not None for kind, _, level in cells):
        print()
        print("| concurrency | real CPU ms per 200 | ceiling CPU ms per 200 |")
        print("|---|---|---|")
        for level in levels:
            real, ceiling = cells["real", 1, level], cells["ceiling", 1, level]
            print(f"| {level} | {real.cpu_ms:.2f} | {ceiling.cpu_ms:.2f} |")


def report_servers(cells: dict[tuple[str, int, int], Cell]) -> None:
    counts = sorted({count for _, count, _ in cells})
    levels = sorted({level for _, _, level in cells})
    header = "| servers | concurrency | real accepted/s | vs 1 server | real p50 ms | real p99 ms |"
    header += " real CPU ms per 200 | ceiling req/s | real/ceiling |"
    print(header)
    print("|" + "---|" * 9)
    for level in levels:
        first = cells["real", counts[0], level]
        for count in counts:
            real, ceiling = cells["real", count, level], cells["ceiling", count, level]
            cpu = "n/a" if real.cpu_ms is None else f"{real.cpu_ms:.2f}"
            print(
                f"| {count} | {level} | {real.per_s:.0f} | {real.per_s / first.per_s:.2f}x |"
                f" {real.p50_ms:.1f} | {real.p99_ms:.1f} | {cpu} | {ceiling.per_s:.0f} |"
                f" {real.ratio:.0%} |"
            )


def report_loss(results: list[Result]) -> None:
    print("| servers | concurrency | issued | 200s | inbox rows added | errors | no loss |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        if r.server == "real":
            print(
                f"| {r.servers} | {r.concurrency} | {r.issued} | {r.accepted} | {r.rows} |"
                f" {r.errors} | {'yes' if r.intact and not r.ran_out else 'NO'} |"
            )


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """The store and server settings (shared with ``bench/ingest_open.py``)."""
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL URL for --store postgres")
    parser.add_argument("--sync", choices=["full", "normal"], default="full")
    parser.add_argument("--max-batch", type=int, default=200, help="group-commit batch size")
    parser.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto")
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per level")
    parser.add_argument("--bodies", type=int, default=60_000, help="distinct bodies per level")
    parser.add_argument("--levels", default="1,10,50,200", help="concurrency levels")
    parser.add_argument("--servers", help="server process counts to compare, e.g. 1,2,3")
    add_server_options(parser)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (medians)")
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
