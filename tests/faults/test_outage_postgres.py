"""PostgreSQL stopped and started under a running ``serve``: 503s meanwhile, nothing lost.

``zoom-brevo serve`` (with its in-process worker) runs on a private PostgreSQL instance
(``initdb`` into a temporary folder, on a free port: the machine's shared server is never
touched). A live meeting and webinar are played through signed webhooks at a steady pace,
by a sender that retries 5xx answers as Zoom does. A few seconds in, PostgreSQL is stopped
(``pg_ctl stop -m fast``) and started again some seconds later. Meanwhile the webhook
endpoint must answer 503 (so that Zoom retries), never 500 and never slower than a few
seconds; once PostgreSQL is back, server and worker recover by themselves, without a
restart. At the end every webhook is stored and processed and Brevo holds exactly what the
scenario calls for, each event once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.acceptance.test_realtime import build_world, expected, play
from tests.conftest import SERIAL, require
from tests.faults.outage import (
    dead_work,
    logs_of,
    start_cli,
    stop,
    wait_healthy,
    wait_settled,
    write_config,
)
from zoom_brevo.sandbox.combined import WEBHOOK_SECRET, build_sandbox
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.sandbox.webhook_sender import Delivery, WebhookSender
from zoom_brevo.server.app import WEBHOOK_PATH
from zoom_brevo.store.engine import create_engine

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300), SERIAL]

DOWN_AFTER_S = 3.0  # into the stream
DOWN_FOR_S = 8.0
PACE_S = 0.3  # between webhooks
RETRY_AFTER_S = 0.5  # Zoom waits minutes; compressed here
ANSWER_WITHIN_S = 5.0  # Zoom gives up on an answer after 3 s and retries
GIVE_UP_AFTER_S = 60.0  # per webhook: the outage lasts DOWN_FOR_S
SETTLE_WITHIN_S = 90.0


# --- a private PostgreSQL -------------------------------------------------------------------


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, owned by the ``postgres`` user."""

    bin_dir: Path
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if os.geteuid() == 0:  # initdb refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.folder / "data"), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
                   "-c fsync=off -c max_connections=50")  # fmt: skip
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-o", options,
                  "-l", str(self.folder / "postgres.log"), "-w", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")


def postgres_bin_dir() -> Path | None:
    """The newest installed server's ``bin`` folder having initdb and pg_ctl."""
    found = [
        Path(d)
        for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if (Path(d) / "initdb").is_file() and (Path(d) / "pg_ctl").is_file()
    ]
    return found[-1] if found else None


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = postgres_bin_dir()
    require(bin_dir is not None, "initdb/pg_ctl not found under /usr/lib/postgresql/*/bin")
    assert bin_dir is not None
    folder = Path(tempfile.mkdtemp(prefix="zoom-brevo-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    pg = PrivatePostgres(bin_dir, folder, free_port())
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pg.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


# --- Zoom's side ----------------------------------------------------------------------------


class GaveUp(Exception):
    """A webhook was retried for ``GIVE_UP_AFTER_S`` without being accepted."""


@dataclass
class Answer:
    """One POST as the sender saw it."""

    at_s: float
    status: int  # 0: no answer (transport error or timeout)
    took_s: float


@dataclass
class ZoomLikeSender(WebhookSender):
    """Posts at a pace and retries a 5xx or a failed connection after ``RETRY_AFTER_S``."""

    answers: list[Answer] = field(default_factory=list)

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        super().__init__(url, WEBHOOK_SECRET, client=client)
        self.answers = []

    async def post(self, body: bytes, headers: dict[str, str]) -> Delivery:
        await asyncio.sleep(PACE_S)
        give_up = time.monotonic() + GIVE_UP_AFTER_S
        while time.monotonic() < give_up:
            began = time.perf_counter()
            try:
                delivery = await super().post(body, headers)
            except httpx.TransportError:
                self.answers.append(Answer(time.time(), 0, time.perf_counter() - began))
            else:
                self.answers.append(
                    Answer(time.time(), delivery.status, time.perf_counter() - began)
                )
                if delivery.status < 500:
                    return delivery
            await asyncio.sleep(RETRY_AFTER_S)
            headers = self.headers_for(body)  # a retry is signed afresh
        raise GaveUp(f"a webhook was not accepted within {GIVE_UP_AFTER_S:g} s")


async def stream_with_outage(
    url: str, world: object, pg: PrivatePostgres
) -> tuple[list[Delivery], ZoomLikeSender, tuple[float, float]]:
    """Play the world's webhooks; stop PostgreSQL ``DOWN_AFTER_S`` in for ``DOWN_FOR_S``."""

    async def outage() -> tuple[float, float]:
        await asyncio.sleep(DOWN_AFTER_S)
        await asyncio.to_thread(pg.stop)
        down_at = time.time()
        await asyncio.sleep(DOWN_FOR_S)
        await asyncio.to_thread(pg.start)
        return down_at, time.time()

    async with httpx.AsyncClient(base_url=url, timeout=ANSWER_WITHIN_S) as http:
        sender = ZoomLikeSender(WEBHOOK_PATH, http)
        window = asyncio.create_task(outage())
        deliveries = await play(world, sender)  # type: ignore[arg-type]
        return deliveries, sender, await window


# --- the test -------------------------------------------------------------------------------


def test_postgres_restart_under_serve_answers_503_then_recovers_and_loses_nothing(
    tmp_path: Path, private_postgres: PrivatePostgres
) -> None:
    world = build_world()
    box = build_sandbox(world.scenario, prepare_brevo=True)
    engine = create_engine(private_postgres.url)
    with serving(box.app) as sandbox_url:
        config = write_config(tmp_path, box, sandbox_url, private_postgres.url)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = tmp_path / "serve.log"
        server = start_cli(["--config", str(config), "serve", "--port", str(port)], log)
        try:
            wait_healthy(url, server, log)
            try:
                deliveries, sender, (down_at, up_at) = asyncio.run(
                    stream_with_outage(url, world, private_postgres)
                )
            except GaveUp as exc:
                pytest.fail(
                    f"{exc} (serve exit code {server.poll()}):\n{logs_of(tmp_path)[-20000:]}"
                )
            settled_at = wait_settled(engine, SETTLE_WITHIN_S, tmp_path)
            dead = dead_work(engine)
        finally:
            code = stop(server)
            engine.dispose()
    logs = logs_of(tmp_path)
    assert code == 0, logs[-20000:]
    assert "Traceback" not in logs, logs[-20000:]

    answers = sender.answers
    statuses = Counter(a.status for a in answers)
    during = Counter(a.status for a in answers if down_at <= a.at_s <= up_at)
    back = [a.at_s for a in answers if a.at_s > up_at and a.status == 200]
    figures = {
        "webhooks": len(deliveries),
        "posts": len(answers),
        "statuses": dict(statuses),
        "during_outage": dict(during),
        "slowest_answer_s": round(max(a.took_s for a in answers), 2),
        "first_200_after_restart_s": round(min(back) - up_at, 2) if back else None,
        "settled_after_restart_s": round(settled_at - up_at, 1),
        "down_s": round(up_at - down_at, 1),
    }
    print(f"\npostgres outage figures: {figures}")  # noqa: T201 (the figures of the docs)

    assert {d.status for d in deliveries} == {200}  # every webhook acknowledged in the end
    assert set(statuses) <= {200, 503}  # never a 500, never a dropped connection
    assert during[503] > 0  # the outage was met while webhooks arrived
    assert max(a.took_s for a in answers) < ANSWER_WITHIN_S
    assert back, "no webhook was accepted after PostgreSQL came back"
    assert dead == {"failed_webhooks": 0, "dead_jobs": 0, "dead_commands": 0}

    want = expected(world)
    state = box.brevo.state
    contacts = {c.email for c in state.contacts.values() if c.email}
    assert contacts == want.contacts
    for role, members in want.lists.items():
        listed = state.lists[box.list_ids[role]].members
        assert {state.contacts[i].email for i in listed} == members, role
    got: Counter[tuple[str, str, str]] = Counter()
    for event in state.events:
        props = event.event_properties or {}
        uuid = "" if event.event_name == "zoom_registered" else str(props.get("uuid"))
        got[(event.event_name, event.identifiers["email_id"], uuid)] += 1
    assert got == want.events  # each event exactly once
