"""Open-loop webhook intake benchmark: a fixed arrival rate, whatever the server answers.

A closed-loop load (wrk, ``bench/ingest.py``) sends the next request only when an answer
comes back, so a slow server is sent less and its latency hides in the lower rate
("coordinated omission"). Here request ``i`` is due at ``t0 + i / rate`` and its latency
is measured from that due time, not from when it could be sent: a server that falls
behind shows it in the percentiles.

The load comes from ``--generators`` processes (forked), each on uvloop, sending its
share of the schedule (every ``--generators``-th request) over a pool of keep-alive
HTTP/1.1 connections: raw sockets, request bytes built up front, one request in flight per
connection, a new connection opened whenever all are busy. Every request carries a
distinct, pre-signed body (at least ``--bodies``, and never fewer than the level sends, so
no request is a cheaper duplicate). Each generator reports how late it was to send
(the time from a request's due time to its write): when that is not small against the
latencies, the generator, not the server, was the bottleneck, and the run says so.

The servers are the ones ``bench/ingest.py`` starts (``server.runner.run_server``, as
``serve`` / ``serve --no-worker`` runs the app): ``--servers 1,2,4`` runs that many side by
side on one store, requests dealt round-robin; ``--store postgres`` a fresh schema.
``--ceiling`` also runs the bare ASGI app at each rate (the floor of this generator and
uvicorn). After each level the inbox rows added must equal the 200s (no loss). Not a
test: run it by hand, e.g.

    .venv/bin/python bench/ingest_open.py --rates 1000,3000 --duration 20
    .venv/bin/python bench/ingest_open.py --rates 1000,2000,3000 --servers 1,2,4 --store postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from statistics import median
from typing import Any

import uvloop
from ingest import (
    PATH,
    add_server_options,
    cpu_seconds,
    requests_for,
    servers,
    store,
    stored_rows,
)

# Sends later than this after their due time (and than a tenth of the p99) mean the
# generator is not keeping up.
LATE_MS = 5.0
# Yield to the event loop at least this often while catching up, so answers are read.
SENDS_PER_YIELD = 32


def request_bytes(count: int, tag: str) -> list[bytes]:
    """``count`` distinct signed webhooks as complete HTTP/1.1 requests (keep-alive)."""
    out = []
    for body, headers in requests_for(count, tag):
        head = f"POST {PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head += f"content-length: {len(body)}\r\n\r\n"
        out.append(head.encode() + body)
    return out


# --- one generator process -----------------------------------------------------------------


@dataclass
class Part:
    """What one generator process saw."""

    latencies_ms: list[float] = field(default_factory=list)  # from due time to answer
    lags_ms: list[float] = field(default_factory=list)  # from due time to the write
    statuses: Counter[int] = field(default_factory=Counter)
    sent: int = 0
    broken: int = 0  # no answer: connection refused, or lost with a request in flight
    unanswered: int = 0  # still in flight when the drain timed out
    connections: int = 0
    last_answer: float = 0.0
    cpu_s: float = 0.0


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request in flight; answers parsed by content-length."""

    def __init__(self, part: Part, idle: list[_Connection], gone: set[_Connection]) -> None:
        self._part, self._idle, self._gone = part, idle, gone
        self._transport: Any = None
        self._buffer = b""
        self._due: float | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def send(self, request: bytes, due: float) -> None:
        self._due = due
        self._transport.write(request)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self._buffer[:end].lower()
        start = head.find(b"content-length:")
        length = int(head[start + 15 : head.find(b"\r\n", start)]) if start >= 0 else 0
        if len(self._buffer) < end + 4 + length:
            return
        now = time.perf_counter()
        self._buffer = self._buffer[end + 4 + length :]
        part, due = self._part, self._due
        assert due is not None
        self._due = None
        part.statuses[int(head[9:12])] += 1
        part.latencies_ms.append(1000 * (now - due))
        part.last_answer = now
        if b"connection: close" not in head:
            self._idle.append(self)

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: ARG002 (protocol)
        if self._due is not None:
            self._part.broken += 1
            self._due = None
        if self in self._idle:
            self._idle.remove(self)
        self._gone.add(self)

    @property
    def busy(self) -> bool:
        return self._due is not None


@dataclass(frozen=True)
class Schedule:
    """Request ``i`` of ``total`` is due at ``t0 + i / rate`` (``time.perf_counter``)."""

    t0: float
    rate: float
    total: int
    ports: tuple[int, ...]
    pool: int  # connections opened per server before t0
    drain_s: float


async def _generate(requests: list[bytes], index: int, parts: int, plan: Schedule) -> Part:
    loop = asyncio.get_running_loop()
    part = Part()
    idle: dict[int, list[_Connection]] = {port: [] for port in plan.ports}
    every: list[_Connection] = []
    gone: set[_Connection] = set()

    async def connect(port: int) -> _Connection:
        part.connections += 1
        _, conn = await loop.create_connection(
            lambda: _Connection(part, idle[port], gone), "127.0.0.1", port
        )
        every.append(conn)
        return conn

    async def send_new(port: int, i: int, due: float) -> None:
        try:
            conn = await connect(port)
        except OSError:
            part.broken += 1
            return
        conn.send(requests[i], due)

    for port in plan.ports:
        for conn in await asyncio.gather(*(connect(port) for _ in range(plan.pool))):
            idle[port].append(conn)
    opening: set[asyncio.Task[None]] = set()
    since_yield = 0
    for i in range(index, plan.total, parts):
        due = plan.t0 + i / plan.rate
        wait = due - time.perf_counter()
        if wait > 0 or since_yield >= SENDS_PER_YIELD:
            await asyncio.sleep(max(wait, 0))
            since_yield = 0
        since_yield += 1
        part.lags_ms.append(1000 * (time.perf_counter() - due))
        part.sent += 1
        port = plan.ports[i % len(plan.ports)]
        if idle[port]:
            idle[port].pop().send(requests[i], due)
        else:
            task = loop.create_task(send_new(port, i, due))
            opening.add(task)
            task.add_done_callback(opening.discard)
    deadline = time.perf_counter() + plan.drain_s
    while (opening or any(c.busy for c in every)) and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    part.unanswered = sum(c.busy for c in every) + len(opening)
    return part


def _generator(
    requests: list[bytes], index: int, parts: int, plan: Schedule, out: Connection
) -> None:
    """Process side: run one share of the schedule, send the :class:`Part` back."""
    started = os.times()
    part = uvloop.run(_generate(requests, index, parts, plan))
    ended = os.times()
    part.cpu_s = (ended.user - started.user) + (ended.system - started.system)
    out.send(part)
    out.close()


def offer(requests: list[bytes], ports: list[int], rate: float, args: argparse.Namespace) -> Part:
    """Send ``requests`` at ``rate`` to ``ports`` from ``args.generators`` processes."""
    context = multiprocessing.get_context("fork")  # the request bytes are inherited, not copied
    plan = Schedule(time.perf_counter() + 1.0, rate, len(requests), tuple(ports), 8, args.drain)
    pipes, processes = [], []
    for index in range(args.generators):
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(
            target=_generator, args=(requests, index, args.generators, plan, sending)
        )
        process.start()
        sending.close()
        pipes.append(receiving)
        processes.append(process)
    parts: list[Part] = [pipe.recv() for pipe in pipes]
    for process in processes:
        process.join()
    return _merge(parts, plan.t0)


def _merge(parts: list[Part], t0: float) -> Part:
    whole = Part()
    for part in parts:
        whole.latencies_ms += part.latencies_ms
        whole.lags_ms += part.lags_ms
        whole.statuses.update(part.statuses)
        whole.sent += part.sent
        whole.broken += part.broken
        whole.unanswered += part.unanswered
        whole.connections += part.connections
        whole.last_answer = max(whole.last_answer, part.last_answer - t0)
        whole.cpu_s += part.cpu_s
    return whole


# --- levels ----------------------------------------------------------------------------------


@dataclass
class Level:
    """One rate against one kind and count of servers."""

    server: str
    servers: int
    rate: int
    duration: float
    part: Part
    rows: int | None = None
    server_cpu_s: float | None = None

    def percentile(self, q: float) -> float:
        return _percentile(self.part.latencies_ms, q)

    @property
    def ok(self) -> int:
        return self.part.statuses[200]

    @property
    def errors(self) -> int:
        return self.part.sent - self.ok

    @property
    def achieved(self) -> float:
        """200s per second, from the first due time to the last answer."""
        return self.ok / max(self.part.last_answer, 1e-9)

    @property
    def lag_p99_ms(self) -> float:
        return _percentile(self.part.lags_ms, 0.99)

    @property
    def behind(self) -> bool:
        """The generator sent late enough to matter: part of the p99 may be its own."""
        return self.lag_p99_ms > max(LATE_MS, 0.1 * self.percentile(0.99))

    @property
    def lost(self) -> bool:
        return self.rows is not None and self.rows != self.ok


@contextlib.contextmanager
def pythonpath(src: str | None) -> Iterator[None]:
    """Servers started inside run the code in ``src`` (``None``: this checkout's)."""
    saved = os.environ.get("PYTHONPATH")
    if src is not None:
        os.environ["PYTHONPATH"] = str(Path(src).resolve())
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run_level(kind: str, count: int, url: str, rate: int, args: argparse.Namespace) -> Level:
    """``count`` fresh servers of ``kind`` on ``url``, offered ``rate`` for ``--duration``.

    ``baseline`` is the real app run from ``--baseline-src``.
    """
    total = int(rate * args.duration)
    tag = f"{kind}-{count}-{rate}-{time.time_ns()}"
    requests = request_bytes(max(total, args.bodies), tag)[:total]
    served = "ceiling" if kind == "ceiling" else "real"
    src = args.baseline_src if kind == "baseline" else None
    with pythonpath(src), servers(served, count, url, args) as running:
        pids = [process.pid for process, _ in running]
        before = stored_rows(url) if served == "real" else 0
        cpu_before = cpu_seconds(pids)
        part = offer(requests, [port for _, port in running], rate, args)
        cpu_after = cpu_seconds(pids)
        level = Level(kind, count, rate, args.duration, part)
        if cpu_before is not None and cpu_after is not None:
            level.server_cpu_s = cpu_after - cpu_before
        if served == "real":
            level.rows = stored_rows(url) - before
    return level


def run(args: argparse.Namespace) -> list[Level]:
    counts = [int(x) for x in args.servers.split(",")]
    rates = [int(x) for x in args.rates.split(",")]
    kinds = ["real", "baseline"] if args.baseline_src else ["real"]
    kinds += ["ceiling"] if args.ceiling else []
    levels = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for round_ in range(args.rounds):
            for count in counts:
                for rate in rates:
                    for kind in kinds:
                        if kind == "ceiling":
                            levels.append(run_level(kind, count, "", rate, args))
                        else:
                            with store(args, tmp, f"open-{round_}-{count}-{rate}-{kind}") as url:
                                levels.append(run_level(kind, count, url, rate, args))
                        print(line(levels[-1]), flush=True)
    return levels


def line(level: Level) -> str:
    p = level.percentile
    cpu = level.server_cpu_s
    per_200 = "n/a" if cpu is None else f"{1000 * cpu / max(level.ok, 1):.2f}"
    rows = "" if level.rows is None else f" {level.rows}"
    lost = "" if level.rows is None else (" | NO" if level.lost else " | yes")
    return (
        f"| {level.server} | {level.servers} | {level.rate} | {level.achieved:.0f} |"
        f" {p(0.50):.1f} | {p(0.90):.1f} | {p(0.99):.1f} | {max(level.part.latencies_ms):.1f} |"
        f" {level.part.sent} | {level.ok}{rows} | {level.errors} | {level.part.broken} |"
        f" {level.part.unanswered} |"
        f" {per_200} | {level.lag_p99_ms:.1f}{' BEHIND' if level.behind else ''} |"
        f" {level.part.connections} | {100 * level.part.cpu_s / level.duration:.0f}%{lost}"
    )


HEADER = (
    "| app | servers | offered/s | achieved 200/s | p50 ms | p90 ms | p99 ms | max ms |"
    " sent | 200s [rows] | not 200 | of which no answer | unanswered at the end |"
    " server CPU ms per 200 |"
    " generator send lag p99 ms | connections | generator CPU | no loss |"
)


def summary(levels: list[Level]) -> None:
    """Medians over the rounds of each (app, servers, rate)."""
    groups: dict[tuple[str, int, int], list[Level]] = {}
    for level in levels:
        groups.setdefault((level.server, level.servers, level.rate), []).append(level)
    print("\n| app | servers | offered/s | achieved 200/s | p50 ms | p99 ms | max ms | rounds |")
    print("|" + "---|" * 8)
    for (kind, count, rate), group in groups.items():
        print(
            f"| {kind} | {count} | {rate} | {median(x.achieved for x in group):.0f} |"
            f" {median(x.percentile(0.5) for x in group):.1f} |"
            f" {median(x.percentile(0.99) for x in group):.1f} |"
            f" {median(max(x.part.latencies_ms) for x in group):.1f} | {len(group)} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="1000,3000", help="requests per second to offer")
    parser.add_argument("--duration", type=float, default=20, help="seconds per level")
    parser.add_argument("--bodies", type=int, default=100_000, help="distinct bodies per level")
    parser.add_argument("--servers", default="1", help="server process counts, e.g. 1,2,4")
    parser.add_argument("--generators", type=int, default=2, help="load generator processes")
    parser.add_argument("--drain", type=float, default=15, help="seconds to wait for answers")
    parser.add_argument("--ceiling", action="store_true", help="also run the bare ASGI app")
    parser.add_argument("--baseline-src", help="also run the real app from this src/ (before)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (medians)")
    add_server_options(parser)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(HEADER)
    print("|" + "---|" * HEADER.count(" |"))
    levels = run(args)
    if args.rounds > 1:
        summary(levels)
    if any(level.behind for level in levels):
        print(f"\nBEHIND: a generator sent late (p99 lag > {LATE_MS} ms and > p99 / 10)")
    if any(level.lost or level.part.unanswered for level in levels):
        print("\nLOSS or unanswered requests: see the table")


if __name__ == "__main__":
    main()
