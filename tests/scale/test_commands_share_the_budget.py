"""One-off commands spend the account-wide budget the workers share (no private limiter).

``check``, ``setup-brevo`` and ``forget --brevo`` run on PostgreSQL against the combined
sandbox. Their Brevo calls are reserved in the database's buckets (the exact count, where a
bucket refills too slowly to hide it), and a pause another process put on a bucket (a 429
it was answered) holds them too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.cli.helpers import Result, invoke
from tests.scale.conftest import Recorder
from zoom_brevo.brevo.families import limits_for
from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store.engine import create_engine
from zoom_brevo.store.schema import rate_buckets
from zoom_brevo.store.shared_limits import DEFAULT_HEADROOM, DatabaseRateLimiter

pytestmark = pytest.mark.postgres

PAUSE_S = 1.5
COMMANDS = {
    "check": ["check"],
    "setup-brevo": ["setup-brevo", "--dry-run"],
    "forget": ["forget", "ada@example.com", "--brevo", "--yes"],
}


@pytest.fixture
def sandbox(pg_schema_url: str) -> Iterator[tuple[Recorder, str]]:
    """The recorded sandbox and a configuration using it, stored on PostgreSQL."""
    box = build_sandbox(prepare_brevo=True)
    recorder = Recorder(box.app)
    with serving(recorder) as base:
        yield recorder, sandbox_config(base, box.list_ids, storage_url=pg_schema_url)


@pytest.fixture
def engine(pg_schema_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_schema_url)
    yield engine
    engine.dispose()


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, config: str, *args: str) -> Result:
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(config, encoding="utf-8")
    return invoke(capsys, ["--config", str(path), *args])


def buckets(engine: Engine) -> dict[str, tuple[float, float]]:
    """``key -> (tokens, updated_s)`` of every bucket in the store."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(rate_buckets))
        return {row.key: (row.tokens, row.updated_s) for row in rows}


def test_check_reserves_each_of_its_brevo_calls_in_the_shared_buckets(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sandbox: tuple[Recorder, str],
    engine: Engine,
) -> None:
    recorder, config = sandbox
    result = run(capsys, tmp_path, config, "check")
    assert result.code == 0, result.err

    found = buckets(engine)
    called = {call.bucket for call in recorder.calls if call.bucket.startswith("brevo:")}
    assert called == {"brevo:other", "brevo:contacts"}  # GET /account, attributes, lists
    assert {"brevo:other:hour", "brevo:contacts", "brevo:contacts:hour"} <= set(found)
    # Brevo's hourly "other" bucket refills by 0.02 a second: what it lost is the calls.
    limit = limits_for("general")["brevo:other:hour"]
    spent = limit.burst * DEFAULT_HEADROOM - found["brevo:other:hour"][0]
    assert spent == pytest.approx(recorder.count("brevo:other"), abs=0.1)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_pause_set_by_another_process_holds_the_command(
    command: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sandbox: tuple[Recorder, str],
    engine: Engine,
) -> None:
    recorder, config = sandbox
    other = DatabaseRateLimiter(engine, limits_for("general"))
    paused_at = time.time()
    asyncio.run(other.pause("brevo:contacts", PAUSE_S))
    paused = time.time()

    result = run(capsys, tmp_path, config, *COMMANDS[command])

    assert result.code == 0, result.err
    contacts = [call.at_s for call in recorder.calls if call.bucket == "brevo:contacts"]
    assert contacts, "the command made no contacts call"
    assert min(contacts) >= paused_at + PAUSE_S - 0.05
    assert buckets(engine)["brevo:contacts"][1] >= paused  # reserved there, after the pause
