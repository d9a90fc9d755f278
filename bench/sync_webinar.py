"""Webinar sync benchmark: ``zoom-brevo sync webinar`` on N attendees + N absentees.

For each N the combined sandbox (emulated Zoom Pro and Brevo "general", REAL rate limits)
is served by a subprocess over a scenario of one webinar with 2N registrants, N of whom
attended, two tracking sources, Q&A and polls. The sync is the real command line,
``zoom-brevo --config ... sync webinar ID --json``, in another subprocess, so its peak RSS
(``os.wait4``) measures the connector alone, and so does its CPU time (user + system),
reported per contact delivered to Brevo. The emulators' own counts are read after the
sync from a ``/bench/stats`` route of the server. The per-contact baseline (the same work,
one ``POST /contacts`` and one ``POST /events`` per attendee and per absentee, with the
same clients and rate limits) runs for ``--baseline-n`` against its own fresh sandbox.
Not a test: run it by hand, e.g.

    .venv/bin/python bench/sync_webinar.py --sizes 1000,10000,100000 --baseline-n 1000

The run's rate-limit floor is printed from its own calls: per Zoom category and Brevo
family, the least time those calls take through the connector's limiter (token buckets
starting full, ``zoom_limits`` and ``limits_for`` of the sandbox's plans), then the wall
time over the busiest single category's floor and over the sum of all floors, beside the
sync process's CPU seconds. The emulators' server also notes when each API call reached it:
the first and last call per Zoom category and Brevo family show which phases overlapped.

Every subprocess has a timeout (``--timeout-per-1000``, plus a floor), after which it is
killed and the N reported as timed out. ``--json PATH`` also writes the raw figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from bench_sandbox import start_sandbox

SEED = 11
WEBINAR_TOPIC = "Benchmark webinar"
START_TIMEOUT_S = 120.0
REGISTRANTS_PATH = "/webinars/{webinarId}/registrants"
DELIVERY_MARK = "delivering to Brevo"  # what sync prints between collecting and delivering
NUMBER = re.compile(r"/\d+")
ZOOM_PLAN, BREVO_PLAN = "pro", "general"  # the sandbox's plans, with real rate limits


# --- server side (subprocess) ------------------------------------------------------------


def build(n: int) -> tuple[Any, int]:
    """The sandbox over one webinar with 2n registrants, n attendees; (sandbox, webinar id)."""
    from zoom_brevo.sandbox.combined import build_sandbox  # noqa: PLC0415
    from zoom_brevo.sandbox.scenario import Scenario  # noqa: PLC0415

    scenario = Scenario(seed=SEED)
    host = scenario.user(email="host@example.com")
    webinar = scenario.webinar(
        host, topic=WEBINAR_TOPIC, registrants=2 * n, attendees=n, sources=2, qa=True, polls=True
    )
    box = build_sandbox(
        scenario,
        zoom_plan=ZOOM_PLAN,
        brevo_plan=BREVO_PLAN,
        enforce_rate_limits=True,
        prepare_brevo=True,
    )
    return box, webinar.id


def expected_calls(box: Any, webinar_id: int, page: int = 300) -> dict[str, Any]:
    """What the connector must spend on Zoom's paged lists for this scenario."""
    webinar = box.scenario.find(webinar_id)
    inst = webinar.latest
    per_source = Counter(
        s.id for i in range(len(webinar.registrants)) if (s := webinar.source_of(i))
    )
    return {
        "registrants": len(webinar.registrants),
        "attendees": webinar.attendees,
        "attendee_rows": inst.row_count(),
        "absentees": webinar.absentee_count(),
        "per_source": dict(per_source),
        "pages": {
            REGISTRANTS_PATH: math.ceil(len(webinar.registrants) / page),
            REGISTRANTS_PATH + "?tracking_source_id": sum(
                math.ceil(k / page) for k in per_source.values()
            ),
            "/report/webinars/{webinarId}/participants": math.ceil(inst.row_count() / page),
            "/past_webinars/{webinarId}/absentees": math.ceil(webinar.absentee_count() / page),
        },
    }


def endpoint(request: Any) -> str:
    """``GET /processes/{id}`` for a recorded ``GET /processes/12``."""
    return f"{request.method} {NUMBER.sub('/{id}', request.path)}"


def zoom_categories(stats: Any) -> dict[str, int]:
    """Zoom API calls per rate-limit category, as the emulator labels its routes."""
    from zoom_brevo.sandbox.zoom import routes  # noqa: PLC0415

    counts: Counter[str] = Counter()
    for request in stats.api_calls():
        found = routes.match(request.raw_path.split("/v2/", 1)[-1].strip("/").split("/"))
        counts[found[0].category if found else "unknown"] += 1
    return dict(counts)


class Timeline:
    """ASGI wrapper noting when each API call reached the emulators, by Zoom category and
    Brevo family: the first and last call of each, in s after the first call of all."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: list[tuple[str, float]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (label := self.label(scope["method"], scope["path"])):
            self.calls.append((label, time.monotonic()))
        await self.app(scope, receive, send)

    @staticmethod
    def label(method: str, path: str) -> str:
        from zoom_brevo.brevo.families import family_of  # noqa: PLC0415
        from zoom_brevo.sandbox.zoom import routes  # noqa: PLC0415

        if path.startswith("/zoom/v2/"):
            found = routes.match(path.removeprefix("/zoom/v2/").strip("/").split("/"))
            return f"Zoom {found[0].category.lower()}" if found else "Zoom"
        if path.startswith("/brevo/v3/"):
            return f"Brevo {family_of(method, path.removeprefix('/brevo/v3'))}"
        return ""

    def spans(self) -> dict[str, list[float]]:
        """Label -> [first, last] call, s after the first call."""
        if not self.calls:
            return {}
        start = self.calls[0][1]
        found: dict[str, list[float]] = {}
        for label, at in self.calls:
            for key in (label, label.split()[0]):
                span = found.setdefault(key, [at - start, at - start])
                span[1] = at - start
        return found


def serve(n: int, port: int) -> None:
    """Serve the sandbox of size n plus ``GET /bench/stats`` until terminated."""
    import uvicorn  # noqa: PLC0415
    from starlette.applications import Starlette  # noqa: PLC0415
    from starlette.requests import Request  # noqa: PLC0415
    from starlette.responses import JSONResponse  # noqa: PLC0415
    from starlette.routing import Mount, Route  # noqa: PLC0415

    from zoom_brevo.demo import zoom_calls_by_endpoint  # noqa: PLC0415

    box, webinar_id = build(n)
    expected = expected_calls(box, webinar_id)

    async def stats(_request: Request) -> JSONResponse:
        state = box.brevo.state
        return JSONResponse(
            {
                "zoom_calls": zoom_calls_by_endpoint(box.zoom.stats),
                "zoom_categories": zoom_categories(box.zoom.stats),
                "zoom_token_requests": box.zoom.stats.token_requests,
                "zoom_429": sum(r.status == 429 for r in box.zoom.stats.requests),
                "brevo_calls": dict(box.brevo.stats.requests),
                "brevo_endpoints": dict(Counter(endpoint(r) for r in box.brevo.stats.log)),
                "brevo_429": sum(r.status == 429 for r in box.brevo.stats.log),
                "contacts": len(state.contacts),
                "lists": {str(i): len(entry.members) for i, entry in state.lists.items()},
                "events": dict(Counter(e.event_name for e in state.events)),
                "expected": expected,
                "spans": app.spans(),
            }
        )

    routes = [
        Route("/bench/stats", stats),
        Mount("/zoom", app=box.zoom.app),
        Mount("/brevo", app=box.brevo.app),
    ]
    app = Timeline(Starlette(routes=routes))
    print(json.dumps({"webinar_id": webinar_id, "lists": box.list_ids}), flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="off")  # fmt: skip


# --- baseline (subprocess) ---------------------------------------------------------------


async def baseline(base_url: str, webinar_id: int, lists: dict[str, int]) -> dict[str, Any]:
    """The connector's work done the per-contact way of the connector spec's example code.

    Every attendee and every absentee of the webinar's latest instance gets one
    ``POST /contacts`` (on the registrants list and the attendees or absentees list, as the
    connector puts them) and one ``POST /events`` (``zoom_attended`` / ``zoom_absent``),
    one after the other, with the same clients and rate limits as the connector.
    """
    from zoom_brevo.brevo.client import BrevoClient  # noqa: PLC0415
    from zoom_brevo.brevo.families import limits_for  # noqa: PLC0415
    from zoom_brevo.brevo.models import Event  # noqa: PLC0415
    from zoom_brevo.ratelimit import LocalRateLimiter  # noqa: PLC0415
    from zoom_brevo.sandbox import combined  # noqa: PLC0415
    from zoom_brevo.zoom.categories import zoom_limits  # noqa: PLC0415
    from zoom_brevo.zoom.client import ZoomClient  # noqa: PLC0415

    limiter = LocalRateLimiter({**zoom_limits("pro"), **limits_for("general")})

    zoom = ZoomClient.server_to_server(
        account_id=combined.ZOOM_ACCOUNT_ID,
        client_id=combined.ZOOM_CLIENT_ID,
        client_secret=combined.ZOOM_CLIENT_SECRET,
        api_base_url=f"{base_url}/zoom/v2",
        oauth_base_url=f"{base_url}/zoom",
        plan="pro",
        limiter=limiter,
    )
    brevo = BrevoClient(
        combined.BREVO_API_KEY, f"{base_url}/brevo/v3", plan="general", limiter=limiter
    )
    started = time.monotonic()
    counts = {"upserts": 0, "events": 0}
    seen: set[str] = set()

    async def deliver(email: str, name: tuple[str, str], role: str, event: str) -> None:
        email = email.strip().lower()
        if not email or email in seen:
            return
        seen.add(email)
        attributes = {"FIRSTNAME": name[0], "LASTNAME": name[1], "WEBINAR_NAME": WEBINAR_TOPIC}
        list_ids = [lists["webinar_registrants"], lists[role]]
        await brevo.upsert_contact(email, attributes=attributes, list_ids=list_ids)
        counts["upserts"] += 1
        properties = {"uuid": uuid, "webinar_id": webinar_id, "topic": WEBINAR_TOPIC}
        await brevo.send_event(
            Event(event_name=event, identifiers={"email_id": email}, event_properties=properties)
        )
        counts["events"] += 1

    async with zoom, brevo:
        uuid = [i.uuid async for i in zoom.past_webinar_instances(webinar_id)][-1]
        async for row in zoom.webinar_participant_report(uuid):
            first, _, last = row.name.partition(" ")
            await deliver(row.user_email, (first, last), "webinar_attendees", "zoom_attended")
        async for absent in zoom.webinar_absentees(uuid):
            name = (absent.first_name, absent.last_name or "")
            await deliver(absent.email, name, "webinar_absentees", "zoom_absent")
    return {**counts, "wall_s": time.monotonic() - started}


# --- driver ------------------------------------------------------------------------------


@dataclass
class Measured:
    """One benchmark run (sync or baseline) at one N."""

    kind: str
    n: int
    exit_code: int | None = None
    wall_s: float = 0.0
    collect_s: float | None = None  # until the sync said it was delivering
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0  # user + system time of the measured process alone
    stats: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def contacts_per_s(self) -> float:
        return self.stats.get("contacts", 0) / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_ms_per_contact(self) -> float:
        """CPU time of the process per contact Brevo holds after the run."""
        contacts = self.stats.get("contacts", 0)
        return 1000 * self.cpu_s / contacts if contacts else 0.0

    @property
    def brevo_calls(self) -> int:
        return int(sum(self.stats.get("brevo_calls", {}).values()))

    @property
    def zoom_calls(self) -> int:
        return int(sum(self.stats.get("zoom_calls", {}).values()))


def start_server(n: int) -> tuple[subprocess.Popen[str], str, dict[str, Any]]:
    return start_sandbox(
        __file__, ["--n", str(n)], start_timeout_s=START_TIMEOUT_S, stats_timeout_s=5
    )


@dataclass
class Child:
    """A finished subprocess: exit code (None on timeout), wall s, peak RSS MB, CPU s, its
    output, and when (s after start) its standard error first said ``DELIVERY_MARK``."""

    code: int | None
    wall_s: float
    peak_rss_mb: float
    cpu_s: float
    out: str
    err: str
    delivery_at_s: float | None


def run_child(args: list[str], timeout_s: float) -> Child:
    """Run ``args`` to its end (or kill it after ``timeout_s``)."""
    started = time.monotonic()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    chunks: dict[str, str] = {}
    marks: list[float] = []

    def drain(name: str, stream: Any) -> None:
        lines = []
        for line in stream:
            if not marks and DELIVERY_MARK in line:
                marks.append(time.monotonic() - started)
            lines.append(line)
        chunks[name] = "".join(lines)

    readers = [
        threading.Thread(target=drain, args=(name, stream), daemon=True)
        for name, stream in (("out", process.stdout), ("err", process.stderr))
    ]
    for reader in readers:
        reader.start()
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        process.kill()

    timer = threading.Timer(timeout_s, kill)
    timer.start()
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would mix in the servers).
    _, status, usage = os.wait4(process.pid, 0)
    timer.cancel()
    wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(10)
    code = None if timed_out.is_set() else process.returncode
    return Child(
        code,
        wall,
        usage.ru_maxrss / 1024,
        usage.ru_utime + usage.ru_stime,
        chunks.get("out", ""),
        chunks.get("err", ""),
        marks[0] if marks else None,
    )


def measure_sync(n: int, timeout_s: float, workdir: Path, wrap: list[str]) -> Measured:
    from zoom_brevo.sandbox.combined import sandbox_config  # noqa: PLC0415

    result = Measured("sync", n)
    server, base, info = start_server(n)
    try:
        config = workdir / f"sync-{n}.yaml"
        storage = f"sqlite:///{workdir / f'sync-{n}.db'}"
        config.write_text(sandbox_config(base, info["lists"], storage_url=storage), "utf-8")
        cli = "from zoom_brevo.cli import main; main()"
        args = [*wrap, sys.executable, "-c", cli, "--config", str(config), "sync", "webinar",
                str(info["webinar_id"]), "--json"]  # fmt: skip
        child = run_child(args, timeout_s)
        result.exit_code, result.wall_s, result.peak_rss_mb = (
            child.code,
            child.wall_s,
            child.peak_rss_mb,
        )
        result.cpu_s = child.cpu_s
        result.collect_s = child.delivery_at_s
        result.stats = httpx.get(f"{base}/bench/stats", timeout=120).json()
        result.stats["list_roles"] = {str(v): k for k, v in info["lists"].items()}
        try:
            result.output = json.loads(child.out)
        except json.JSONDecodeError:
            result.error = child.err.strip()[-2000:]
        if child.code != 0:
            result.error = child.err.strip()[-2000:]
    finally:
        server.terminate()
        server.wait(60)
    return result


def measure_baseline(n: int, timeout_s: float) -> Measured:
    result = Measured("baseline", n)
    server, base, info = start_server(n)
    try:
        args = [sys.executable, __file__, "baseline", "--base", base,
                "--webinar", str(info["webinar_id"]),
                "--lists", json.dumps(info["lists"])]  # fmt: skip
        child = run_child(args, timeout_s)
        result.exit_code, result.wall_s, result.peak_rss_mb = (
            child.code,
            child.wall_s,
            child.peak_rss_mb,
        )
        result.cpu_s = child.cpu_s
        result.stats = httpx.get(f"{base}/bench/stats", timeout=120).json()
        result.output = json.loads(child.out) if child.code == 0 else {}
        if child.code != 0:
            result.error = child.err.strip()[-2000:]
    finally:
        server.terminate()
        server.wait(60)
    return result


# --- rate-limit floor --------------------------------------------------------------------


def floor_s(calls: int, limits: list[Any]) -> float:
    """The least time ``calls`` calls take through token buckets that start full: the
    last one waits until every bucket has refilled what the burst did not cover."""
    return max((max(0.0, (calls - lim.burst) / lim.rate_per_s) for lim in limits), default=0.0)


def floors(stats: dict[str, Any]) -> dict[str, tuple[int, float]]:
    """Calls and floor (s) per Zoom category and Brevo family, under the connector's own
    limiter for the sandbox's plans (``zoom_limits`` and ``limits_for``: the plan's
    published limits less the limiter's safety shares)."""
    from zoom_brevo.brevo.families import limiter_keys as family_keys  # noqa: PLC0415
    from zoom_brevo.brevo.families import limits_for  # noqa: PLC0415
    from zoom_brevo.zoom.categories import Category, zoom_limits  # noqa: PLC0415
    from zoom_brevo.zoom.categories import limiter_keys as category_keys  # noqa: PLC0415

    limits = {**zoom_limits(ZOOM_PLAN), **limits_for(BREVO_PLAN)}
    found: dict[str, tuple[int, float]] = {}
    for name, calls in sorted(stats.get("zoom_categories", {}).items()):
        keys = category_keys(Category(name.lower()), ZOOM_PLAN)
        found[f"Zoom {name.lower()}"] = (calls, floor_s(calls, [limits[k] for k in keys]))
    for family, calls in sorted(stats.get("brevo_calls", {}).items()):
        keys = [k for k in family_keys(family) if k in limits]
        found[f"Brevo {family}"] = (calls, floor_s(calls, [limits[k] for k in keys]))
    return found


def floor_lines(runs: list[Measured]) -> list[str]:
    """The floor table: what the calls made cost at least, and the wall time against it."""
    title = f"## Rate-limit floor (the connector's limiter; Zoom {ZOOM_PLAN}, Brevo {BREVO_PLAN})"
    header = (
        "| N | calls / floor s per category | busiest floor s | sum of floors s | wall s"
        " | wall / busiest | wall / sum | sync CPU s |"
    )
    lines = ["", title, "", header, "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        per = floors(r.stats)
        if not per:
            continue
        busiest_name, (_, busiest) = max(per.items(), key=lambda item: item[1][1])
        total = sum(f for _, f in per.values())
        cells = ", ".join(f"{k} {c} / {f:.1f}" for k, (c, f) in per.items())
        lines.append(
            f"| {r.n:,} | {cells} | {busiest:.1f} ({busiest_name}) | {total:.1f}"
            f" | {r.wall_s:.1f} | {_ratio(r.wall_s, busiest)} | {_ratio(r.wall_s, total)}"
            f" | {r.cpu_s:.1f} |"
        )
    return lines


def _ratio(wall_s: float, floor: float) -> str:
    return f"{wall_s / floor:.2f}x" if floor > 0 else "n/a"


# --- report ------------------------------------------------------------------------------


def report(runs: list[Measured], base: Measured | None) -> str:
    lines = ["## Per N (connector: zoom-brevo sync webinar, events on)", ""]
    header = (
        "| N attendees | registrants | exit | wall s | collect s | peak RSS MB | contacts"
        " | contacts/s | Zoom calls | Brevo calls | Brevo by family |"
    )
    lines += [header, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in runs:
        exp = r.stats.get("expected", {})
        fams = ", ".join(f"{k} {v}" for k, v in sorted(r.stats.get("brevo_calls", {}).items()))
        collect = "?" if r.collect_s is None else f"{r.collect_s:.1f}"
        lines.append(
            f"| {r.n:,} | {exp.get('registrants', 0):,} | {r.exit_code} | {r.wall_s:.1f}"
            f" | {collect}"
            f" | {r.peak_rss_mb:.0f} | {r.stats.get('contacts', 0):,} | {r.contacts_per_s:.0f}"
            f" | {r.zoom_calls} | {r.brevo_calls} | {fams} |"
        )
    lines += floor_lines(runs)
    lines += ["", "## When the calls were made (first - last, s after the first API call)", ""]
    for r in runs:
        spans = r.stats.get("spans", {})
        cells = ", ".join(f"{k} {a:.1f}-{b:.1f}" for k, (a, b) in sorted(spans.items()))
        lines.append(f"- N={r.n:,}: {cells}")
    lines += ["", "## CPU per delivered contact and peak RSS per N", ""]
    lines += [
        "| N | CPU s | contacts | CPU ms/contact | CPU ms/attendee | peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.n:,} | {r.cpu_s:.1f} | {r.stats.get('contacts', 0):,}"
            f" | {r.cpu_ms_per_contact:.2f} | {1000 * r.cpu_s / r.n:.2f} | {r.peak_rss_mb:.0f} |"
        )
    lines += ["", "## Zoom calls per list (measured / expected ceil(rows/300))", ""]
    lines += ["| N | endpoint | calls | expected |", "|---:|---|---:|---:|"]
    for r in runs:
        pages = r.stats.get("expected", {}).get("pages", {})
        for endpoint, calls in sorted(r.stats.get("zoom_calls", {}).items()):
            want = pages.get(endpoint, "")
            lines.append(f"| {r.n:,} | `{endpoint}` | {calls} | {want} |")
        lines.append(f"| {r.n:,} | token requests | {r.stats.get('zoom_token_requests')} | |")
    lines += ["", "## Brevo state after the sync (check)", ""]
    for r in runs:
        roles = r.stats.get("list_roles", {})
        lists = {roles.get(k, k): v for k, v in r.stats.get("lists", {}).items()}
        lines.append(
            f"- N={r.n:,}: contacts {r.stats.get('contacts')}, lists {lists},"
            f" events {r.stats.get('events')}, 429s Zoom {r.stats.get('zoom_429')}"
            f" Brevo {r.stats.get('brevo_429')}" + (f"; ERROR {r.error}" if r.error else "")
        )
        endpoints = ", ".join(
            f"{k} {v}" for k, v in sorted(r.stats.get("brevo_endpoints", {}).items())
        )
        lines.append(f"  - Brevo calls by endpoint: {endpoints}")
    if base is not None:
        lines += ["", "## Per-contact baseline", ""]
        lines.append(
            f"- N={base.n:,}: exit {base.exit_code}, {base.output.get('upserts')} upserts,"
            f" {base.output.get('events')} events, contacts {base.stats.get('contacts')},"
            f" lists {base.stats.get('lists')}, events in Brevo {base.stats.get('events')},"
            f" Brevo calls {base.brevo_calls} {base.stats.get('brevo_calls')},"
            f" Zoom calls {base.zoom_calls}, wall {base.wall_s:.1f} s,"
            f" peak RSS {base.peak_rss_mb:.0f} MB, CPU {base.cpu_s:.1f} s"
            f" ({base.cpu_ms_per_contact:.2f} ms/contact), {base.contacts_per_s:.1f} contacts/s"
            + (f"; ERROR {base.error}" if base.error else "")
        )
        same = next((r for r in runs if r.n == base.n), None)
        if same is not None and base.brevo_calls:
            contacts = same.stats.get("brevo_calls", {}).get("contacts", 0)
            lines.append(
                f"- ratio of wall time at N={base.n:,}: {same.wall_s:.1f} / {base.wall_s:.1f}"
                f" = {same.wall_s / base.wall_s:.1%}"
            )
            lines.append(
                f"- ratio of Brevo calls at N={base.n:,}: all families"
                f" {same.brevo_calls}/{base.brevo_calls}"
                f" = {same.brevo_calls / base.brevo_calls:.2%};"
                f" contacts family only {contacts}/{base.brevo_calls}"
                f" = {contacts / base.brevo_calls:.2%}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    s = sub.add_parser("serve")
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--port", type=int, required=True)
    b = sub.add_parser("baseline")
    b.add_argument("--base", required=True)
    b.add_argument("--webinar", type=int, required=True)
    b.add_argument("--lists", required=True, help="JSON: list role -> id")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--baseline-n", type=int, default=1000, help="0: no baseline")
    parser.add_argument("--timeout-per-1000", type=float, default=25.0)
    parser.add_argument("--min-timeout", type=float, default=300.0)
    parser.add_argument("--json", dest="json_path", default="")
    parser.add_argument(
        "--wrap", default="", help="command prefix for the sync, e.g. a profiler (RSS then wrong)"
    )
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.n, args.port)
        return
    if args.command == "baseline":
        print(json.dumps(asyncio.run(baseline(args.base, args.webinar, json.loads(args.lists)))))
        return

    def timeout(n: int) -> float:
        return max(float(args.min_timeout), n / 1000 * float(args.timeout_per_1000))

    runs: list[Measured] = []
    base: Measured | None = None
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        for n in (int(x) for x in args.sizes.split(",") if x):
            print(f"N={n:,}: syncing (timeout {timeout(n):.0f} s)...", file=sys.stderr)
            runs.append(measure_sync(n, timeout(n), Path(tmp), args.wrap.split()))
            print(f"  done in {runs[-1].wall_s:.1f} s", file=sys.stderr)
        if args.baseline_n:
            print(f"baseline N={args.baseline_n:,}...", file=sys.stderr)
            # two calls (contact, event) per attendee and absentee, about 6 a second each
            base = measure_baseline(args.baseline_n, timeout(args.baseline_n * 40))
    print(report(runs, base))
    if args.json_path:
        document = {"runs": [asdict(r) for r in runs], "baseline": base and asdict(base)}
        Path(args.json_path).write_text(json.dumps(document, indent=2), "utf-8")


if __name__ == "__main__":
    main()
