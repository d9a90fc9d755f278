"""``zoom-brevo forget``: erase a person locally and, with ``--brevo``, in the Brevo emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.cli.helpers import Result, invoke
from zoom_brevo.logging import mask_email
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store import facts, outbox
from zoom_brevo.store.engine import create_engine, migrate, reading, transaction
from zoom_brevo.store.outbox import NewCommand

ADA = "ada.forget@example.com"
BOB = "bob.stays@example.com"


@pytest.fixture
def sandbox() -> Iterator[tuple[Sandbox, str]]:
    box = build_sandbox(enforce_rate_limits=False, prepare_brevo=True)
    with serving(box.app) as base_url:
        yield box, base_url


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    url = f"sqlite:///{tmp_path / 'zb.db'}"
    engine = create_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    with transaction(engine) as conn:
        for email in (ADA, BOB):
            facts.upsert_person(conn, email, first_name="Someone", now=now)
            command = NewCommand("contact", {"email": email}, f"contact:{email}")
            outbox.add(conn, command, now=now)
    yield engine, url
    engine.dispose()


@pytest.fixture
def config(tmp_path: Path, sandbox: tuple[Sandbox, str], store: tuple[Engine, str]) -> Path:
    box, base_url = sandbox
    for email in (ADA, BOB):
        box.brevo.state.create_contact(email, {}, time.time(), None)
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(sandbox_config(base_url, box.list_ids, storage_url=store[1]), "utf-8")
    return path


def forget(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Result:
    return invoke(capsys, ["--config", str(config), "forget", *args])


def test_forget_with_brevo_erases_locally_and_deletes_the_brevo_contact(
    capsys: pytest.CaptureFixture[str],
    config: Path,
    sandbox: tuple[Sandbox, str],
    store: tuple[Engine, str],
) -> None:
    result = forget(capsys, config, "Ada.Forget@Example.com", "--brevo", "--yes", "--json")

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["brevo"] == {"outcome": "deleted", "error": None}
    assert document["local"]["deleted"] == {"people": 1, "outbox": 1}
    assert sandbox[0].brevo.state.contact(ADA) is None
    assert sandbox[0].brevo.state.contact(BOB) is not None
    with reading(store[0]) as conn:
        assert facts.get_person(conn, ADA) is None
        assert facts.get_person(conn, BOB) is not None


def test_output_counts_what_was_removed_without_repeating_the_address(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = forget(capsys, config, ADA, "--yes")

    assert result.code == 0, result.err
    assert "people: 1 deleted" in result.out
    assert "outbox: 1 deleted" in result.out
    assert "Brevo contact: kept (add --brevo to delete it)" in result.out
    assert mask_email(ADA) in result.out
    assert "ada.forget" not in result.out + result.err


def test_without_brevo_the_brevo_contact_is_kept(
    capsys: pytest.CaptureFixture[str], config: Path, sandbox: tuple[Sandbox, str]
) -> None:
    result = forget(capsys, config, ADA, "--yes", "--json")

    assert result.code == 0, result.err
    assert json.loads(result.out)["brevo"] is None
    assert sandbox[0].brevo.state.contact(ADA) is not None


def test_a_person_unknown_everywhere_is_not_an_error(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = forget(capsys, config, "nobody@example.com", "--brevo", "--yes")

    assert result.code == 0, result.err
    assert "Nothing was stored about" in result.out
    assert "Brevo contact: not found (nothing to delete)" in result.out


def test_an_invalid_address_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = forget(capsys, config, "not-an-address", "--yes")

    assert result.code == 2
    assert "not an e-mail address" in result.err
    assert result.out == ""


def test_without_a_terminal_it_asks_for_yes_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], config: Path, store: tuple[Engine, str]
) -> None:
    result = forget(capsys, config, ADA)

    assert result.code == 2
    assert "--yes" in result.err
    with reading(store[0]) as conn:
        assert facts.get_person(conn, ADA) is not None


def test_a_brevo_failure_is_reported_after_the_local_erasure(
    capsys: pytest.CaptureFixture[str], config: Path, sandbox: tuple[Sandbox, str]
) -> None:
    sandbox[0].brevo.faults.fail_next(10, status=401, path_contains="/contacts")

    result = forget(capsys, config, ADA, "--brevo", "--yes", "--json")

    assert result.code == 1
    assert json.loads(result.out)["brevo"]["outcome"] == "failed"
    assert "erased locally, but the Brevo contact was not deleted" in result.err
    assert sandbox[0].brevo.state.contact(ADA) is not None


def test_brevo_is_asked_only_after_a_send_in_progress_has_ended(
    capsys: pytest.CaptureFixture[str], config: Path, store: tuple[Engine, str]
) -> None:
    with transaction(store[0]) as conn:
        now = datetime.now(UTC)
        # A lease long enough to outlast the command's start-up on a loaded machine.
        outbox.claim_batch(conn, limit=1, owner="worker", lease_s=2.0, now=now)
    started = time.monotonic()

    result = forget(capsys, config, ADA, "--brevo", "--yes")

    assert result.code == 0, result.err
    assert time.monotonic() - started >= 0.3
    assert "waiting" in result.err
