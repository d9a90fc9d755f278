"""Real-time benchmark: from ``meeting.ended`` acknowledged to the contacts and events in Brevo.

Three subprocesses: the combined sandbox (emulated Zoom Pro and Brevo "general" with REAL
rate limits, plus a read-only ``GET /bench/meeting/{index}`` progress route), ``zoom-brevo
serve --no-worker`` and ``zoom-brevo worker`` over one SQLite store, configured with
``collect.delay_s: 0`` (collect at once), ``reconcile_after_s: 0`` and
``sweep_interval_s: 0`` (no sweep: it would collect the meetings before their webhooks, so
every meeting goes the webhook path). The worker is started (its ``worker_started`` log
line) before the first meeting ends, so its start-up is not measured. The scenario has
``--meetings`` ended meetings with ``--participants`` distinct people each (new people per
meeting). For each meeting in turn this process POSTs a signed ``meeting.ended`` and
measures from the moment the endpoint answered 200 to the moment the emulated Brevo holds
every attendee's contact and one ``zoom_attended`` event per attendee for that instance
(polled every ``--poll-ms``). Not a test: run it by hand, e.g.

    .venv/bin/python bench/realtime.py --meetings 20 --participants 50 --write-docs

``--write-docs`` replaces the section "meeting.ended to Brevo" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from zoom_brevo.sandbox.serving import free_port

SEED = 21
CLI = [sys.executable, "-c", "from zoom_brevo.cli import main; main()"]
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
SECTION = "## meeting.ended to Brevo"
START_TIMEOUT_S = 60.0


# --- the world, the same in every process -------------------------------------------------


def world(meetings: int, participants: int, anchor: datetime) -> Any:
    """The scenario: one host, ``meetings`` ended meetings of new people each."""
    from zoom_brevo.sandbox.scenario import Scenario  # noqa: PLC0415

    scenario = Scenario(seed=SEED, anchor=anchor)
    host = scenario.user(email="host@example.com")
    for i in range(meetings):
        scenario.meeting(
            host,
            topic=f"Realtime bench {i}",
            participants=participants,
            people_offset=i * participants,
        )
    return scenario


def attendees(instance: Any) -> tuple[set[str], set[str]]:
    """(every attendee address, those with time in the meeting itself) of an instance."""
    everyone, attended = set(), set()
    for att in instance.attendances():
        email = (att.registrant.email if att.registrant else att.person.email).strip().lower()
        if not email:
            continue
        everyone.add(email)
        if any(s.status == "in_meeting" and s.leave > s.join for s in att.sessions):
            attended.add(email)
    return everyone, attended


# --- sandbox side (subprocess) ------------------------------------------------------------


def serve_sandbox(port: int, meetings: int, participants: int, anchor: datetime) -> None:
    """Serve both emulators plus ``GET /bench/meeting/{index}`` until terminated."""
    import uvicorn  # noqa: PLC0415
    from starlette.applications import Starlette  # noqa: PLC0415
    from starlette.requests import Request  # noqa: PLC0415
    from starlette.responses import JSONResponse  # noqa: PLC0415
    from starlette.routing import Mount, Route  # noqa: PLC0415

    from zoom_brevo.sandbox.combined import build_sandbox  # noqa: PLC0415

    box = build_sandbox(
        world(meetings, participants, anchor), enforce_rate_limits=True, prepare_brevo=True
    )
    wanted = [attendees(m.latest) for m in box.scenario.meetings]

    async def progress(request: Request) -> JSONResponse:
        index = int(request.path_params["index"])
        everyone, attended = wanted[index]
        uuid = box.scenario.meetings[index].latest.uuid
        state = box.brevo.state
        events = {
            e.identifiers.get("email_id")
            for e in state.events
            if e.event_name == "zoom_attended" and (e.event_properties or {}).get("uuid") == uuid
        }
        return JSONResponse(
            {
                "contacts": sum(email in state.by_email for email in everyone),
                "contacts_wanted": len(everyone),
                "attended": len(events & attended),
                "attended_wanted": len(attended),
                "brevo_429": sum(r.status == 429 for r in box.brevo.stats.log),
            }
        )

    app = Starlette(
        routes=[
            Route("/bench/meeting/{index}", progress),
            Mount("/zoom", app=box.zoom.app),
            Mount("/brevo", app=box.brevo.app),
        ]
    )
    print(json.dumps({"lists": box.list_ids}), flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="off")  # fmt: skip


# --- driver ------------------------------------------------------------------------------


@dataclass
class Sample:
    """One meeting: seconds from the 200 to everything in Brevo (``None``: timed out)."""

    index: int
    ack_ms: float
    seconds: float | None


def wait_http(url: str, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"process for {url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return
    raise SystemExit(f"{url} did not answer within {START_TIMEOUT_S} s")


def wait_started(log: Path, process: subprocess.Popen[Any]) -> None:
    """Wait until the worker logged that it runs, so that start-up is not measured."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the worker exited with {process.returncode}")
        if "worker_started" in log.read_text("utf-8", errors="replace"):
            return
        time.sleep(0.1)
    raise SystemExit(f"the worker did not start within {START_TIMEOUT_S} s")


def start_sandbox(args: argparse.Namespace, anchor: datetime) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    command = [sys.executable, __file__, "--serve-sandbox", "--port", str(port)]
    command += ["--meetings", str(args.meetings), "--participants", str(args.participants)]
    command += ["--anchor", anchor.isoformat()]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    info = json.loads(process.stdout.readline() or "{}")
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/bench/meeting/0", process)
    process.info = info  # type: ignore[attr-defined]
    return process, url


def connector_config(sandbox_url: str, lists: dict[str, int], store: Path) -> str:
    from zoom_brevo.sandbox.combined import sandbox_config  # noqa: PLC0415

    text = sandbox_config(sandbox_url, lists, storage_url=f"sqlite:///{store}")
    # The sweep is off: its start-up run would collect every ended meeting of the scenario
    # before its webhook is sent, and the bench would measure nothing.
    collect = (
        "  zoom:\n    collect:\n      delay_s: 0\n      reconcile_after_s: 0\n"
        "      sweep_interval_s: 0\n"
    )
    return text.replace("  zoom:\n", collect, 1)


async def measure(
    server_url: str, sandbox_url: str, args: argparse.Namespace, anchor: datetime
) -> list[Sample]:
    from zoom_brevo.sandbox.combined import WEBHOOK_SECRET  # noqa: PLC0415
    from zoom_brevo.sandbox.webhook_sender import WebhookSender, ZoomEvents  # noqa: PLC0415
    from zoom_brevo.server.app import WEBHOOK_PATH  # noqa: PLC0415

    scenario = world(args.meetings, args.participants, anchor)
    events = ZoomEvents(account_id="sandbox-account")
    samples = []
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        sender = WebhookSender(WEBHOOK_PATH, WEBHOOK_SECRET, client=http)
        for index, meeting in enumerate(scenario.meetings):
            sent = time.perf_counter()
            delivery = await sender.send(events.ended(meeting.latest))
            acked = time.perf_counter()
            acked_at = datetime.now(UTC).isoformat(timespec="milliseconds")
            if delivery.status != 200:
                raise SystemExit(f"meeting.ended answered {delivery.status}")
            done = await until_in_brevo(http, sandbox_url, index, args)
            seconds = None if done is None else done - acked
            samples.append(Sample(index, (acked - sent) * 1000, seconds))
            shown = "timed out" if seconds is None else f"{seconds:.2f} s"
            print(f"meeting {index}: {shown} (acknowledged at {acked_at})", flush=True)
    return samples


async def until_in_brevo(
    http: httpx.AsyncClient, sandbox_url: str, index: int, args: argparse.Namespace
) -> float | None:
    deadline = time.perf_counter() + args.timeout
    while time.perf_counter() < deadline:
        seen = (await http.get(f"{sandbox_url}/bench/meeting/{index}")).json()
        if (
            seen["contacts"] == seen["contacts_wanted"]
            and seen["attended"] == seen["attended_wanted"]
        ):
            return time.perf_counter()
        await asyncio.sleep(args.poll_ms / 1000)
    return None


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(args: argparse.Namespace) -> list[Sample]:
    anchor = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    sandbox, sandbox_url = start_sandbox(args, anchor)
    processes: list[subprocess.Popen[Any]] = [sandbox]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "zoom-brevo.yaml"
            lists = sandbox.info["lists"]  # type: ignore[attr-defined]
            config.write_text(connector_config(sandbox_url, lists, Path(tmp) / "store.db"))
            port = free_port()
            logs = Path(args.logs) if args.logs else Path(tmp)
            logs.mkdir(parents=True, exist_ok=True)
            log = (logs / "serve.log").open("wb")
            serve = [*CLI, "--config", str(config), "serve", "--no-worker", "--port", str(port)]
            processes.append(subprocess.Popen(serve, stdout=log, stderr=subprocess.STDOUT))
            server_url = f"http://127.0.0.1:{port}"
            wait_http(f"{server_url}/healthz", processes[-1])
            worker_log = (logs / "worker.log").open("wb")
            worker = [*CLI, "--config", str(config), "worker"]
            processes.append(subprocess.Popen(worker, stdout=worker_log, stderr=subprocess.STDOUT))
            wait_started(logs / "worker.log", processes[-1])
            return asyncio.run(measure(server_url, sandbox_url, args, anchor))
    finally:
        for process in reversed(processes):
            stop(process)


def report(samples: list[Sample], args: argparse.Namespace) -> str:
    times = sorted(s.seconds for s in samples if s.seconds is not None)
    timed_out = len(samples) - len(times)
    cuts = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
    acks = statistics.quantiles([s.ack_ms for s in samples], n=100, method="inclusive")
    lines = [
        f"meetings={args.meetings} participants={args.participants} timed_out={timed_out}",
        "",
        "| meetings | participants each | p50 s | p95 s | max s | ack p50 ms |",
        "|---|---|---|---|---|---|",
        (
            f"| {len(times)} | {args.participants} | {cuts[49]:.2f} | {cuts[94]:.2f} |"
            f" {max(times):.2f} | {acks[49]:.1f} |"
        ),
    ]
    return "\n".join(lines)


def write_docs(table: str, args: argparse.Namespace) -> None:
    command = (
        f".venv/bin/python bench/realtime.py --meetings {args.meetings}"
        f" --participants {args.participants} --write-docs"
    )
    section = f"""{SECTION}

What it measures: the time from `meeting.ended` acknowledged (200 from `POST
/webhooks/zoom`) to the emulated Brevo holding every attendee's contact and one
`zoom_attended` event per attendee of that meeting. Subprocesses: the combined sandbox
(emulated Zoom Pro and Brevo "general", real rate limits), `zoom-brevo serve --no-worker`
and `zoom-brevo worker` over one SQLite store, `collect.delay_s: 0`, the sweep off
(`collect.sweep_interval_s: 0`: at start-up it would collect every meeting of the scenario
before its webhook, and the bench would measure nothing), the worker started before the
first meeting ends. Meetings are ended one
at a time (each waits for the previous to be in Brevo), each with new people; the
emulated Brevo is polled every {args.poll_ms} ms through a bench-only read route.

Command (2 shared cores, other jobs running):

    {command}

{table}
"""
    text = DOCS.read_text("utf-8")
    if SECTION in text:
        head, _, rest = text.partition(SECTION)
        nxt = rest.find("\n## ")
        text = head + section + (rest[nxt + 1 :] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text, "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=20)
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--poll-ms", type=int, default=25, help="Brevo state poll interval")
    parser.add_argument("--timeout", type=float, default=120.0, help="per meeting, seconds")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--logs", default="", help="keep the server's and worker's logs here")
    parser.add_argument("--serve-sandbox", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--anchor", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sandbox:
        anchor = datetime.fromisoformat(args.anchor)
        serve_sandbox(args.port, args.meetings, args.participants, anchor)
        return
    samples = run(args)
    table = report(samples, args)
    print(table)
    if args.write_docs:
        write_docs(table, args)


if __name__ == "__main__":
    main()
