"""Delivery with 1, 2 and 4 worker processes on PostgreSQL, against Brevo's real limits.

A backlog of contact upserts (each its own ``POST /contacts``: the import threshold is
set above the batch size) and events is queued in a fresh PostgreSQL schema; then N
worker processes deliver it to the Brevo emulator, which runs in its own process with
the General plan's limits (contacts 10/s, events 10/s) and records every call. The
workers share the limits through the database (``DatabaseRateLimiter``), so more
workers must not mean more calls per second. Reported per run: wall time, calls per
second per family, the busiest one-second window (sliding) and the 429s Brevo answered.
``--limiter local`` gives each worker its own in-memory buckets instead, for contrast.
Not a test: run it by hand, e.g.

    .venv/bin/python bench/workers.py --contacts 300 --events 300 --workers 1,2,4
    .venv/bin/python bench/workers.py --contacts 300 --events 300 --workers 4 --limiter local
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.families import limits_for
from zoom_brevo.delivery.worker import Deliverer
from zoom_brevo.pipeline.commands import SendEvent, UpsertContact
from zoom_brevo.ratelimit import LocalRateLimiter, RateLimiter
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.sandbox.brevo.limits import family
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.store import outbox
from zoom_brevo.store.engine import create_engine, migrate, transaction
from zoom_brevo.store.outbox import NewCommand
from zoom_brevo.store.shared_limits import DatabaseRateLimiter

API_KEY = "xkeysib-bench"
DEFAULT_PG = os.environ.get(
    "ZOOM_BREVO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


# --- the emulator process -------------------------------------------------------------


class Recorder:
    """ASGI middleware: notes (time, family, status) of every Brevo API call."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: list[tuple[float, str, int]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/brevo/v3/"):
            await self.app(scope, receive, send)
            return
        arrived = time.time()
        bucket = family(scope["method"], path.removeprefix("/brevo/v3"))

        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.calls.append((arrived, bucket, message["status"]))
            await send(message)

        await self.app(scope, receive, noting)


def emulator(port: int) -> None:
    """Serve the Brevo emulator with real limits, plus /bench/stats and /bench/reset."""
    holder: dict[str, Any] = {}

    def fresh() -> None:
        emu = BrevoEmulator(api_keys={API_KEY}, enforce_rate_limits=True, plan="general")
        holder["app"] = emu.app

    async def brevo(scope: Any, receive: Any, send: Any) -> None:
        await holder["app"](scope, receive, send)

    async def stats(_: Request) -> JSONResponse:
        return JSONResponse(recorder.calls)

    async def reset(_: Request) -> JSONResponse:
        fresh()
        recorder.calls.clear()
        return JSONResponse({"ok": True})

    fresh()
    app = Starlette(
        routes=[
            Route("/bench/stats", stats),
            Route("/bench/reset", reset, methods=["POST"]),
            Mount("/brevo", app=brevo),
        ]
    )
    recorder = Recorder(app)
    with serving(recorder, port=port):
        print("ready", flush=True)
        sys.stdin.readline()  # until the parent closes our stdin


# --- a worker process -----------------------------------------------------------------


async def work(url: str, brevo_url: str, owner: str, kind: str) -> None:
    """Deliver the outbox until nothing is left, through the ``kind`` of limiter."""
    engine = create_engine(url)
    limits = limits_for("general")
    limiter: RateLimiter = (
        DatabaseRateLimiter(engine, limits) if kind == "shared" else LocalRateLimiter(limits)
    )
    async with BrevoClient(API_KEY, base_url=brevo_url, limiter=limiter) as brevo:
        deliverer = Deliverer(
            engine, brevo, owner=owner, import_threshold=10**9, batch_size=50, poll_interval_s=0.2
        )
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        stop = asyncio.Event()
        running = asyncio.create_task(deliverer.run(stop))
        while True:
            await asyncio.sleep(0.5)
            with transaction(engine) as conn:
                left = outbox.counts(conn)
            if left["queued"] + left["running"] == 0:
                break
        stop.set()
        await running
    engine.dispose()


# --- the driver -----------------------------------------------------------------------


@contextmanager
def schema(pg_url: str) -> Iterator[str]:
    name = f"zb_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    url = sa.make_url(pg_url).update_query_dict({"options": f"-csearch_path={name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def backlog(url: str, contacts: int, events: int) -> None:
    engine = create_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    commands: list[UpsertContact | SendEvent] = [
        UpsertContact(email=f"c{n}@bench.example", attributes={"FIRSTNAME": f"C{n}"})
        for n in range(contacts)
    ]
    commands += [
        SendEvent(event_name="zoom_attended", email=f"e{n}@bench.example", ledger_key=f"b:{n}")
        for n in range(events)
    ]
    with transaction(engine) as conn:
        outbox.add_many(
            conn, (NewCommand(c.kind, c.to_payload(), c.coalescing_key) for c in commands), now=now
        )
    engine.dispose()


def peak(times: list[float]) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def run(workers: int, args: argparse.Namespace, base: str) -> dict[str, Any]:
    httpx.post(f"{base}/bench/reset")
    with schema(args.pg) as url:
        backlog(url, args.contacts, args.events)
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "worker",
                    url,
                    f"{base}/brevo/v3",
                    f"bench-{n}",
                    args.limiter,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(workers)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        begun = time.time()
        for proc in procs:
            proc.communicate("go\n", timeout=3600)
        seconds = time.time() - begun
        engine = create_engine(url)
        with transaction(engine) as conn:
            states = outbox.counts(conn)
        engine.dispose()
    calls = [tuple(c) for c in httpx.get(f"{base}/bench/stats").json()]
    result: dict[str, Any] = {
        "limiter": args.limiter,
        "workers": workers,
        "seconds": round(seconds, 1),
        "outbox": states,
    }
    for fam in ("contacts", "events"):
        times = [t for t, f, _ in calls if f == fam]
        result[fam] = {
            "calls": len(times),
            "per_s": round(len(times) / seconds, 2),
            "peak_1s": peak(times),
            "429": sum(1 for _, f, s in calls if f == fam and s == 429),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument(
        "--limiter",
        choices=("shared", "local"),
        default="shared",
        help="shared: buckets in PostgreSQL (what serve/worker use); local: per process",
    )
    args = parser.parse_args()
    port = free_port()
    emu = subprocess.Popen(
        [sys.executable, __file__, "emulator", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert emu.stdout is not None and emu.stdout.readline().strip() == "ready"
    try:
        for workers in (int(n) for n in args.workers.split(",")):
            print(json.dumps(run(workers, args, f"http://127.0.0.1:{port}")), flush=True)
    finally:
        emu.communicate("", timeout=30)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "emulator":
        emulator(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "worker":
        asyncio.run(work(*sys.argv[2:6]))
    else:
        main()
