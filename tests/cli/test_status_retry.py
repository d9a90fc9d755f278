"""``status`` and ``retry`` on a store the delivery worker filled against the Brevo emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.cli.helpers import Result, invoke
from tests.delivery.conftest import FAST_CLIENT, deliverer, enqueue
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.pipeline.commands import UpsertContact
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.brevo.state import ContactList, iso
from zoom_brevo.sandbox.combined import BREVO_API_KEY, Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store.engine import create_engine, migrate

MISSING_LIST = 999


@pytest.fixture
def sandbox() -> Iterator[tuple[Sandbox, str]]:
    box = build_sandbox(enforce_rate_limits=False, prepare_brevo=True)
    # Brevo alone at the root: status and retry never call the APIs, the worker does.
    with serving(box.brevo.app) as base_url:
        yield box, base_url


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    url = f"sqlite:///{tmp_path / 'zb.db'}"
    engine = create_engine(url)
    migrate(engine)
    yield engine, url
    engine.dispose()


@pytest.fixture
def config(tmp_path: Path, sandbox: tuple[Sandbox, str], store: tuple[Engine, str]) -> Path:
    box, base_url = sandbox
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(sandbox_config(base_url, box.list_ids, storage_url=store[1]), "utf-8")
    return path


async def deliver(sandbox: tuple[Sandbox, str], engine: Engine) -> None:
    base = f"{sandbox[1]}/v3"
    async with BrevoClient(
        BREVO_API_KEY, base, backoff=FAST_CLIENT, limiter=LocalRateLimiter({})
    ) as brevo:
        await deliverer(engine, brevo, import_threshold=2).drain(
            deadline_s=10, wait_for_imports=True
        )


def cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Result:
    return invoke(capsys, ["--config", str(config), *args])


def status_json(capsys: pytest.CaptureFixture[str], config: Path) -> dict[str, object]:
    result = cli(capsys, config, "status", "--json")
    assert result.code == 0, result.err
    document: dict[str, object] = json.loads(result.out)
    return document


async def test_status_json_of_an_empty_store_shows_zero_depths_and_the_limits(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    document = status_json(capsys, config)

    assert document["outbox"] == {"queued": 0, "running": 0, "done": 0, "dead": 0}
    assert document["dead_letters"] == {"count": 0, "recent": []}
    assert document["last_sync"] is None
    limits = document["limits"]
    assert isinstance(limits, dict)
    assert limits["brevo"]["families"]["contacts"] == {"per_second": 10, "per_hour": 36000}
    assert limits["brevo"]["families"]["other"]["per_hour"] == 100
    assert limits["zoom"]["plan"] == "pro"
    assert BREVO_API_KEY not in json.dumps(document)


async def test_status_shows_dead_letters_and_import_rejections_then_retry_delivers(
    capsys: pytest.CaptureFixture[str],
    config: Path,
    sandbox: tuple[Sandbox, str],
    store: tuple[Engine, str],
) -> None:
    box, _ = sandbox
    engine = store[0]
    list_id = box.list_ids["meeting_participants"]
    [late] = enqueue(engine, UpsertContact("late@example.com", {}, (MISSING_LIST,)))
    enqueue(
        engine,
        UpsertContact("ann@example.com", {"FIRSTNAME": "Ann"}, (list_id,)),
        UpsertContact("not-an-email", {"FIRSTNAME": "X"}, (list_id,)),
    )
    await deliver(sandbox, engine)

    document = status_json(capsys, config)
    dead = document["dead_letters"]
    assert isinstance(dead, dict)
    assert dead["count"] == 1
    assert dead["recent"][0]["id"] == f"outbox:{late}"
    assert str(MISSING_LIST) in dead["recent"][0]["error"]
    assert document["import_rejections"] == {
        "count": 1,
        "recent": [{"process_id": 1, "email": "not-an-email", "reason": "invalid_emails"}],
    }

    table = cli(capsys, config, "status")
    assert table.code == 0
    assert f"outbox:{late}" in table.out
    assert "Import rejections: 1" in table.out

    folder = next(iter(box.brevo.state.folders))
    box.brevo.state.lists[MISSING_LIST] = ContactList(
        MISSING_LIST, "late", folder, iso(time.time())
    )
    result = cli(capsys, config, "retry", f"outbox:{late}")
    assert result.code == 0, result.err
    assert f"re-queued outbox:{late}" in result.out

    await deliver(sandbox, engine)
    contact = box.brevo.state.contact("late@example.com")
    assert contact is not None
    assert MISSING_LIST in contact.list_ids
    after = status_json(capsys, config)
    assert after["dead_letters"] == {"count": 0, "recent": []}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["retry", "outbox:abc"], "not a dead letter reference"),
        (["retry", "inbox:3"], "not a dead letter reference"),
        (["retry", "outbox:4242"], "no such outbox entry"),
        (["retry"], "or --all"),
        (["retry", "--all", "job:1"], "or --all"),
    ],
)
def test_retry_refuses_malformed_or_unknown_ids_with_exit_2(
    capsys: pytest.CaptureFixture[str], config: Path, args: list[str], message: str
) -> None:
    result = cli(capsys, config, *args)

    assert result.code == 2
    assert message in result.err
    assert len(result.err_lines) == 1


def test_retry_refuses_a_row_that_is_not_dead(
    capsys: pytest.CaptureFixture[str], config: Path, store: tuple[Engine, str]
) -> None:
    [queued] = enqueue(store[0], UpsertContact("a@example.com"))

    result = cli(capsys, config, "retry", f"outbox:{queued}")

    assert result.code == 2
    assert "not a dead letter (it is queued)" in result.err


def test_retry_all_with_nothing_dead_says_so(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = cli(capsys, config, "retry", "--all")

    assert result.code == 0
    assert "No dead letters" in result.out
