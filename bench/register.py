"""Register benchmark: ``zoom-brevo register WEBINAR_ID --list N`` on a list of N contacts.

The combined sandbox (emulated Zoom Pro and Brevo "general", REAL rate limits, prepared
as ``setup-brevo`` would) is served by a subprocess over one upcoming webinar with
registration on (automatic approval; form: last name required, organization, one
required custom question) and a Brevo list of ``--contacts`` people who answered them all.
The command is the real command line, ``zoom-brevo --config ... register ID --list L
--json``, in another subprocess over a fresh SQLite store; it runs twice: the first run
registers everyone, the second finds them all registered (expected: no Zoom POST).

For each run: wall time (peak RSS via ``os.wait4``), the emulators' calls by endpoint
(read from a ``/bench/stats`` route of the server before and after), 429s, and the
rate-limit floor: the least time the vendors' documented limits allow for those calls
(Zoom by category per second and per day, reference zoom.md section 3 and
``zoom.categories``; Brevo by family per second and per hour, ``brevo.families``); n calls
under a budget of b per window of w seconds need at least ``(ceil(n / b) - 1) * w``. Zoom
and Brevo limits are independent, so the floor is the larger of the two. Also the floor
of the connector's own token buckets (it keeps under the documented limits with margins).
Not a test: run it by hand, e.g.

    nice -n 19 .venv/bin/python bench/register.py --contacts 10000

``--json PATH`` also writes the raw figures.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bench_sandbox import start_sandbox

SEED = 21
START_TIMEOUT_S = 300.0
LEARN = "What would you like to learn?"
MAPPING = f"""\
field_mapping:
  org: COMPANY
  custom_questions:
    "{LEARN}": LEARNING_GOAL
"""
CLI = [sys.executable, "-c", "from zoom_brevo.cli import main; main()"]
SCRIPT = Path(sys.executable).parent / "zoom-brevo"  # the console script, for cProfile
PARAM = re.compile(r"\{[^}]*\}")
NUMBER = re.compile(r"/\d+")


# --- server side (subprocess) ------------------------------------------------------------


def build(contacts: int, zoom_plan: str, brevo_plan: str) -> tuple[Any, int, int]:
    """The sandbox, the webinar's id and the id of the Brevo list of ``contacts`` people."""
    from zoom_brevo.sandbox.brevo.state import ContactList  # noqa: PLC0415
    from zoom_brevo.sandbox.combined import build_sandbox  # noqa: PLC0415
    from zoom_brevo.sandbox.scenario import FormQuestion, Scenario  # noqa: PLC0415

    scenario = Scenario(seed=SEED)
    host = scenario.user(email="host@example.com")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=8)
    webinar = scenario.webinar(
        host, topic="Register bench", registrants=0, attendees=0, sources=0, start=start
    )
    webinar.form_fields = (("last_name", True), ("org", False))
    webinar.form_questions = (FormQuestion(LEARN, required=True),)
    box = build_sandbox(
        scenario,
        zoom_plan=zoom_plan,
        brevo_plan=brevo_plan,
        enforce_rate_limits=True,
        prepare_brevo=True,
    )
    state = box.brevo.state
    list_id = state.next_id("list")
    folder_id = next(iter(state.folders))
    state.lists[list_id] = ContactList(list_id, "Webinar sign-ups", folder_id, "2026-01-01")
    for i in range(contacts):
        attributes = {
            "FIRSTNAME": f"First{i}",
            "LASTNAME": f"Last{i}",
            "COMPANY": "Acme",
            "LEARNING_GOAL": "Automation",
        }
        contact = state.create_contact(f"person{i:06d}@example.com", attributes, 0.0, None)
        state.link(contact, list_id)
    return box, webinar.id, list_id


def zoom_endpoint(request: Any) -> str:
    """``POST /webinars/{webinarId}/registrants`` (``?status=denied`` shown) of a call."""
    from zoom_brevo.demo import endpoint_of  # noqa: PLC0415

    label = f"{request.method} {endpoint_of(request.raw_path, request.query)}"
    status = request.query.get("status")
    return f"{label}?status={status}" if status else label


def serve(contacts: int, port: int, zoom_plan: str, brevo_plan: str) -> None:
    """Serve the sandbox plus ``GET /bench/stats`` until terminated."""
    import uvicorn  # noqa: PLC0415
    from starlette.applications import Starlette  # noqa: PLC0415
    from starlette.requests import Request  # noqa: PLC0415
    from starlette.responses import JSONResponse  # noqa: PLC0415
    from starlette.routing import Mount, Route  # noqa: PLC0415

    box, webinar_id, list_id = build(contacts, zoom_plan, brevo_plan)
    webinar = box.scenario.find(webinar_id)

    async def stats(_request: Request) -> JSONResponse:
        log = box.brevo.stats.log
        contacts = box.brevo.state.contacts.values()
        linked = sum(1 for c in contacts if "ZOOM_JOIN_URL" in c.attributes)
        return JSONResponse(
            {
                "zoom_calls": dict(Counter(zoom_endpoint(r) for r in box.zoom.stats.api_calls())),
                "zoom_token_requests": box.zoom.stats.token_requests,
                "zoom_429": sum(r.status == 429 for r in box.zoom.stats.requests),
                "brevo_calls": dict(
                    Counter(f"{r.method} {NUMBER.sub('/{id}', r.path)}" for r in log)
                ),
                "brevo_families": dict(box.brevo.stats.requests),
                "brevo_429": sum(r.status == 429 for r in log),
                "zoom_registrants": len(webinar.registrants),
                "contacts_with_join_url": linked,
            }
        )

    app = Starlette(
        routes=[
            Route("/bench/stats", stats),
            Mount("/zoom", app=box.zoom.app),
            Mount("/brevo", app=box.brevo.app),
        ]
    )
    info = {"webinar_id": webinar_id, "list_id": list_id, "lists": box.list_ids}
    print(json.dumps(info), flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="off")  # fmt: skip


# --- floors ------------------------------------------------------------------------------


def window_floor(calls: int, budget: float | None, window_s: float) -> float:
    """Least seconds for ``calls`` when a window of ``window_s`` admits ``budget`` calls."""
    if not budget or calls <= 0:
        return 0.0
    return (math.ceil(calls / budget) - 1) * window_s


def bucket_floor(calls: int, limit: Any) -> float:
    """Least seconds the connector's token bucket needs for ``calls`` (burst spent at once)."""
    return max(0.0, (calls - limit.burst) / limit.rate_per_s)


def zoom_category(label: str) -> Any:
    """The rate-limit category of ``GET /webinars/{webinarId}/registrants?status=denied``."""
    from zoom_brevo.zoom.categories import ENDPOINTS, WRITES  # noqa: PLC0415

    method, _, path = label.partition(" ")
    path = PARAM.sub("{}", path.split("?")[0])
    for e in (*ENDPOINTS, *WRITES):
        if e.method == method and PARAM.sub("{}", e.path) == path:
            return e.category
    raise SystemExit(f"no Zoom category for {label}: add it to zoom.categories")


def zoom_floors(calls: dict[str, int], plan: str) -> dict[str, Any]:
    """Per category: calls, documented limits, the floor they allow, the connector's floor."""
    from zoom_brevo.zoom.categories import (  # noqa: PLC0415
        documented_limits,
        limiter_keys,
        zoom_limits,
    )

    by_category: Counter[Any] = Counter()
    for label, n in calls.items():
        by_category[zoom_category(label)] += n
    documented = documented_limits(plan)  # type: ignore[arg-type]
    ours = zoom_limits(plan)  # type: ignore[arg-type]
    found = {}
    for category, n in by_category.items():
        limits = documented[category.value]
        floor = max(
            window_floor(n, limits["per_second"], 1.0),
            window_floor(n, limits["per_minute"], 60.0),
            window_floor(n, limits["per_day"], 86_400.0),
        )
        keys = limiter_keys(category, plan)  # type: ignore[arg-type]
        found[category.value] = {
            "calls": n,
            "per_second": limits["per_second"],
            "per_day": limits["per_day"],
            "floor_s": floor,
            "connector_floor_s": max(bucket_floor(n, ours[k]) for k in keys),
        }
    return found


def brevo_floors(families: dict[str, int], plan: str) -> dict[str, Any]:
    """Per family: calls, documented windows, the floor they allow, the connector's floor."""
    from zoom_brevo.brevo.families import limiter_keys, limits_for, windows  # noqa: PLC0415

    ours = limits_for(plan)
    found = {}
    for family, n in families.items():
        per_s, per_h = windows(plan, family)  # type: ignore[arg-type]
        keys = [k for k in limiter_keys(family) if k in ours]  # type: ignore[arg-type]
        found[family] = {
            "calls": n,
            "per_second": per_s,
            "per_hour": per_h,
            "floor_s": max(window_floor(n, per_s, 1.0), window_floor(n, per_h, 3600.0)),
            "connector_floor_s": max((bucket_floor(n, ours[k]) for k in keys), default=0.0),
        }
    return found


# --- driver ------------------------------------------------------------------------------


@dataclass
class Run:
    """One ``register`` run: its wall time and what it cost at each vendor."""

    name: str
    exit_code: int | None = None
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    zoom_posts_reported: int = 0
    zoom_calls: dict[str, int] = field(default_factory=dict)
    brevo_calls: dict[str, int] = field(default_factory=dict)
    brevo_families: dict[str, int] = field(default_factory=dict)
    zoom_429: int = 0
    brevo_429: int = 0
    zoom_floor: dict[str, Any] = field(default_factory=dict)
    brevo_floor: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def floor_s(self) -> float:
        return max(
            [f["floor_s"] for f in (*self.zoom_floor.values(), *self.brevo_floor.values())],
            default=0.0,
        )

    @property
    def connector_floor_s(self) -> float:
        parts = (*self.zoom_floor.values(), *self.brevo_floor.values())
        return max([f["connector_floor_s"] for f in parts], default=0.0)


def diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in sorted(after.items()) if v - before.get(k, 0)}


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str, dict[str, Any]]:
    serve = ["--contacts", str(args.contacts), "--zoom-plan", args.zoom_plan,
             "--brevo-plan", args.brevo_plan]  # fmt: skip
    return start_sandbox(__file__, serve, start_timeout_s=START_TIMEOUT_S, stats_timeout_s=30)


def run_register(name: str, command: list[str], base: str, args: argparse.Namespace) -> Run:
    """Run ``command`` once, timed, with the emulators' counts before and after."""
    run = Run(name)
    before = httpx.get(f"{base}/bench/stats", timeout=120).json()
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        run.error = f"killed after {args.timeout:.0f} s"
    run.wall_s = time.monotonic() - started
    run.exit_code = process.returncode if not run.error else None
    # communicate() reaped the child: its resource usage is in RUSAGE_CHILDREN, which
    # also counts the server only once it exits (it has not): the register processes' peak.
    run.peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    after = httpx.get(f"{base}/bench/stats", timeout=120).json()
    run.zoom_calls = diff(after["zoom_calls"], before["zoom_calls"])
    run.brevo_calls = diff(after["brevo_calls"], before["brevo_calls"])
    run.brevo_families = diff(after["brevo_families"], before["brevo_families"])
    run.zoom_429 = after["zoom_429"] - before["zoom_429"]
    run.brevo_429 = after["brevo_429"] - before["brevo_429"]
    run.zoom_floor = zoom_floors(run.zoom_calls, args.zoom_plan)
    run.brevo_floor = brevo_floors(run.brevo_families, args.brevo_plan)
    try:
        document = json.loads(out)
        run.counts = {k: v for k, v in document["counts"].items() if v}
        run.zoom_posts_reported = document["zoom_registrations_sent"]
    except (json.JSONDecodeError, KeyError):
        run.error = run.error or err.strip()[-2000:]
    if run.exit_code not in (0, None):
        run.error = err.strip()[-2000:]
    return run


def report(runs: list[Run], args: argparse.Namespace, final: dict[str, Any]) -> str:
    title = (
        f"## register: {args.contacts:,} contacts (Zoom {args.zoom_plan}, Brevo {args.brevo_plan})"
    )
    header = (
        "| run | exit | wall s | floor s | wall/floor | connector floor s | outcomes"
        " | Zoom calls | Brevo calls | 429s (Zoom/Brevo) | peak RSS MB |"
    )
    lines = [title, "", header, "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        ratio = f"{r.wall_s / r.floor_s:.2f}" if r.floor_s else "-"
        outcomes = ", ".join(f"{k} {v:,}" for k, v in r.counts.items())
        lines.append(
            f"| {r.name} | {r.exit_code} | {r.wall_s:.1f} | {r.floor_s:.1f} | {ratio}"
            f" | {r.connector_floor_s:.1f} | {outcomes} | {sum(r.zoom_calls.values()):,}"
            f" | {sum(r.brevo_calls.values()):,} | {r.zoom_429}/{r.brevo_429}"
            f" | {r.peak_rss_mb:.0f} |"
        )
    for r in runs:
        lines += ["", f"### {r.name} run: calls by endpoint", ""]
        lines += [f"- Zoom `{k}`: {v:,}" for k, v in r.zoom_calls.items()]
        lines += [f"- Brevo `{k}`: {v:,}" for k, v in r.brevo_calls.items()]
        for vendor, floors in (("Zoom", r.zoom_floor), ("Brevo", r.brevo_floor)):
            for name, f in floors.items():
                lines.append(
                    f"- floor {vendor} {name}: {f['calls']:,} calls, documented"
                    f" {f['per_second']}/s, {f.get('per_day') or f.get('per_hour')}"
                    f"/{'day' if 'per_day' in f else 'hour'} -> {f['floor_s']:.1f} s"
                    f" (connector's buckets: {f['connector_floor_s']:.1f} s)"
                )
        if r.error:
            lines.append(f"- error: {r.error}")
    lines.append("")
    lines.append(
        f"After both runs: {final['zoom_registrants']:,} registrants in the Zoom webinar,"
        f" {final['contacts_with_join_url']:,} Brevo contacts with ZOOM_JOIN_URL."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=["serve"], help=argparse.SUPPRESS)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--zoom-plan", default="pro", choices=["free", "pro", "business"])
    parser.add_argument(
        "--brevo-plan", default="general", choices=["general", "advanced", "extended"]
    )
    parser.add_argument("--timeout", type=float, default=7200.0, help="per run, seconds")
    parser.add_argument("--json", dest="json_path", default="")
    parser.add_argument("--profile", default="", help="cProfile the first run into this file")
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.contacts, args.port, args.zoom_plan, args.brevo_plan)
        return

    from zoom_brevo.sandbox.combined import sandbox_config  # noqa: PLC0415

    print(f"building a sandbox of {args.contacts:,} contacts...", file=sys.stderr)
    server, base, info = start_server(args)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-register-") as tmp:
            config = Path(tmp) / "zoom-brevo.yaml"
            text = sandbox_config(base, info["lists"], storage_url=f"sqlite:///{tmp}/store.db")
            text = text.replace("/zoom/v2\n", f"/zoom/v2\n    plan: {args.zoom_plan}\n")
            text = text.replace("/brevo/v3\n", f"/brevo/v3\n  plan: {args.brevo_plan}\n")
            config.write_text(text + MAPPING, "utf-8")
            command = ["--config", str(config), "register", str(info["webinar_id"]),
                       "--list", str(info["list_id"]), "--json"]  # fmt: skip
            runs = []
            profile = ["-m", "cProfile", "-o", args.profile, str(SCRIPT)] if args.profile else []
            for name, prefix in (("first", profile), ("second", [])):
                print(f"{name} run...", file=sys.stderr)
                cli = [sys.executable, *prefix] if prefix else CLI
                runs.append(run_register(name, [*cli, *command], base, args))
                print(f"  {runs[-1].wall_s:.1f} s", file=sys.stderr)
            final = httpx.get(f"{base}/bench/stats", timeout=120).json()
    finally:
        server.terminate()
        server.wait(60)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{report(runs, args, final)}\n\n({when})")
    if args.json_path:
        document = {"contacts": args.contacts, "when": when, "runs": [asdict(r) for r in runs]}
        Path(args.json_path).write_text(json.dumps(document, indent=2), "utf-8")


if __name__ == "__main__":
    main()
