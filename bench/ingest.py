"""Webhook intake benchmark: the real app vs a bare ASGI app that only answers 200.

Each server runs under uvicorn in its own subprocess (the real one on a SQLite WAL store in
a temporary directory); this process drives signed, distinct webhooks over loopback with
httpx at several concurrency levels and prints accepted/s and time-to-acknowledge
percentiles for both, and the ratio. Not a test: run it by hand, e.g.

    .venv/bin/python bench/ingest.py --requests 2000 --levels 1,10,50,200

``--sync normal`` runs the store with ``PRAGMA synchronous=NORMAL`` and ``--max-batch 1``
turns group commit off, to see what each costs or buys.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
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


@dataclass(frozen=True)
class Result:
    server: str
    concurrency: int
    accepted: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_s(self) -> float:
        return self.accepted / self.seconds


def serve(kind: str, port: int, db: str, sync: str, max_batch: int) -> None:
    """Subprocess side: run the real app or the ceiling app until terminated."""
    import uvicorn  # noqa: PLC0415

    if kind == "ceiling":
        app: Any = ceiling_app
    else:
        app = real_app(db, sync, max_batch)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


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


async def drive(url: str, server: str, concurrency: int, count: int) -> Result:
    work = requests_for(count, f"{server}-{concurrency}-{time.time_ns()}")
    latencies: list[float] = []
    accepted = 0
    queue = iter(work)
    # One client (one keep-alive connection) per concurrent sender, built before the clock
    # starts: each httpx client loads an SSL context, which costs more than a request here.
    clients = [httpx.AsyncClient(base_url=url, timeout=60) for _ in range(concurrency)]
    await asyncio.gather(*(client.get("/healthz") for client in clients))  # connect first

    async def one_sender(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        for body, headers in queue:
            started = time.perf_counter()
            response = await client.post(PATH, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            accepted += response.status_code == 200

    began = time.perf_counter()
    await asyncio.gather(*(one_sender(client) for client in clients))
    seconds = time.perf_counter() - began
    for client in clients:
        await client.aclose()
    cuts = statistics.quantiles(latencies, n=100)
    return Result(server, concurrency, accepted, seconds, cuts[49] * 1000, cuts[98] * 1000)


def start_server(
    kind: str, db: str, sync: str, max_batch: int
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    args = [sys.executable, __file__, "--serve", kind, "--port", str(port), "--db", db]
    args += ["--sync", sync, "--max-batch", str(max_batch)]
    process = subprocess.Popen(args)
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


def stored_rows(db: str) -> int:
    import sqlite3  # noqa: PLC0415

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM inbox").fetchone()[0])


def run(args: argparse.Namespace) -> None:
    levels = [int(x) for x in args.levels.split(",")]
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        for kind in ("real", "ceiling"):
            process, url = start_server(kind, db, args.sync, args.max_batch)
            try:
                asyncio.run(drive(url, kind, 1, 50))  # warm-up
                results += [asyncio.run(drive(url, kind, n, args.requests)) for n in levels]
            finally:
                process.terminate()
                process.wait(30)
        rows = stored_rows(db)
    report(results, args, rows)


def report(results: list[Result], args: argparse.Namespace, rows: int) -> None:
    by = {(r.server, r.concurrency): r for r in results}
    print(f"sync={args.sync} max_batch={args.max_batch} requests/level={args.requests}")
    print(f"inbox rows after the run: {rows} (warm-up included)")
    header = "| concurrency | real accepted/s | real p50 ms | real p99 ms |"
    header += " ceiling req/s | ceiling p50 ms | ceiling p99 ms | real/ceiling |"
    print(header)
    print("|" + "---|" * 8)
    for level in sorted({r.concurrency for r in results}):
        real, ceiling = by["real", level], by["ceiling", level]
        print(
            f"| {level} | {real.per_s:.0f} | {real.p50_ms:.1f} | {real.p99_ms:.1f} |"
            f" {ceiling.per_s:.0f} | {ceiling.p50_ms:.1f} | {ceiling.p99_ms:.1f} |"
            f" {real.per_s / ceiling.per_s:.0%} |"
        )
    failures = [r for r in results if r.accepted != args.requests]
    for r in failures:
        print(f"WARNING: {r.server} at {r.concurrency}: {r.accepted}/{args.requests} accepted")
    if args.json:
        print(json.dumps([r.__dict__ for r in results]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per level")
    parser.add_argument("--levels", default="1,10,50,200", help="concurrency levels")
    parser.add_argument("--sync", choices=["full", "normal"], default="full")
    parser.add_argument("--max-batch", type=int, default=200, help="group-commit batch size")
    parser.add_argument("--json", action="store_true", help="also print the raw results")
    parser.add_argument("--serve", choices=["real", "ceiling"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.db, args.sync, args.max_batch)
    else:
        os.environ.setdefault("PYTHONHASHSEED", "0")
        run(args)


if __name__ == "__main__":
    main()
