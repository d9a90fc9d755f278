"""What ``serve`` runs counts its worker's API calls and deliveries on ``/metrics``.

The app ``serve`` builds (``cli.serve_cmd.serve_app``) runs with its in-process worker
against the combined sandbox; a contact and an event queued in the outbox are delivered,
and ``/metrics`` shows the Brevo calls (by family and status), their latency and the
delivery latency of each command.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.delivery.conftest import enqueue
from tests.delivery.test_worker import attended, attendee
from tests.server.test_operations import samples
from zoom_brevo.cli.serve_cmd import serve_app
from zoom_brevo.config import Settings, load_settings
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.wiring import open_store

from .conftest import running_with_lifespan

DELIVERED_WITHIN_S = 30.0
Found = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Sandbox, Settings, Engine]]:
    box = build_sandbox(prepare_brevo=True)
    with serving(box.app) as base:
        config = tmp_path / "zoom-brevo.yaml"
        storage = f"sqlite:///{tmp_path / 'store.db'}"
        config.write_text(sandbox_config(base, box.list_ids, storage_url=storage), "utf-8")
        settings = load_settings(config, {})
        engine = open_store(settings)
        yield box, settings, engine
        engine.dispose()


def scrape_until_delivered(url: str, kinds: tuple[str, ...]) -> Found:
    deadline = time.monotonic() + DELIVERED_WITHIN_S
    while True:
        found = samples(httpx.get(f"{url}/metrics", timeout=5).text)
        counts = [
            found.get(("zoom_brevo_delivery_latency_seconds_count", (("kind", k),)), 0)
            for k in kinds
        ]
        if all(counts) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_serve_counts_its_workers_api_calls_and_deliveries(
    world: tuple[Sandbox, Settings, Engine],
) -> None:
    box, settings, engine = world
    enqueue(engine, attendee(1, box.list_ids["meeting_participants"]), attended(1))

    with running_with_lifespan(serve_app(settings, engine, worker=True)) as server:
        found = scrape_until_delivered(server.url, ("contact", "event"))

    def count(name: str, **labels: str) -> float:
        return found.get((f"zoom_brevo_{name}", tuple(sorted(labels.items()))), 0)

    assert count("delivery_latency_seconds_count", kind="contact") == 1
    assert count("delivery_latency_seconds_count", kind="event") == 1
    answered = Counter((r.family, str(r.status)) for r in box.brevo.stats.log)
    counted = {
        (dict(labels)["category"], dict(labels)["status"]): value
        for (name, labels), value in found.items()
        if name == "zoom_brevo_api_calls_total" and ("service", "brevo") in labels
    }
    assert counted == answered
    assert count("api_call_seconds_count", service="brevo") == answered.total()
