"""``status`` says when the served account removed the app, and what was received but not done.

A received webhook never disappears silently: an ignored deauthorization of another
account is counted, and webhooks that were ignored or failed are listed with their reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.cli.helpers import invoke
from zoom_brevo.sandbox.combined import sandbox_config
from zoom_brevo.store import deauthorizations, inbox
from zoom_brevo.store.engine import create_engine, migrate, transaction

NOW = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
SERVED = "x1yCzABCDEfg23HiJKl4mN"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    url = f"sqlite:///{tmp_path / 'zb.db'}"
    engine = create_engine(url)
    migrate(engine)
    config = tmp_path / "zoom-brevo.yaml"
    config.write_text(sandbox_config("http://127.0.0.1:9", storage_url=url), "utf-8")
    yield engine, config
    engine.dispose()


def _status(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[str, dict[str, object]]:
    text = invoke(capsys, ["--config", str(config), "status"])
    as_json = invoke(capsys, ["--config", str(config), "status", "--json"])
    assert (text.code, as_json.code) == (0, 0), text.err + as_json.err
    return text.out, json.loads(as_json.out)


def _ignored_webhook(engine: Engine, event: str, reason: str) -> None:
    with transaction(engine) as conn:
        row_id = inbox.insert(
            conn, dedupe_key=f"k-{event}", event_type=event, raw_body=b"{}", headers={}, now=NOW
        )
        assert row_id is not None
        inbox.mark(conn, row_id, "ignored", error=reason, now=NOW)


def test_a_quiet_store_shows_no_deauthorization_and_nothing_unprocessed(
    capsys: pytest.CaptureFixture[str], store: tuple[Engine, Path]
) -> None:
    out, document = _status(capsys, store[1])
    assert "DEAUTHORIZED" not in out
    assert "Webhooks received, not processed: none" in out
    assert document["webhooks_not_processed"] == []
    assert document["zoom_account"] == {
        "deauthorized": False,
        "account_id": None,
        "deauthorized_at": None,
        "counts": {"erased": 0, "ignored": 0},
        "last_ignored_account_id": None,
    }


def test_ignored_deauthorizations_and_webhooks_are_listed_with_their_reason(
    capsys: pytest.CaptureFixture[str], store: tuple[Engine, Path]
) -> None:
    engine, config = store
    with transaction(engine) as conn:
        deauthorizations.record(conn, "AAAAAABBBB", "ignored", now=NOW)
    _ignored_webhook(engine, "app_deauthorized", "deauthorization of another account")
    out, document = _status(capsys, config)
    assert "Deauthorizations of other accounts ignored: 1 (last: AAAAAABBBB)" in out
    assert "Webhooks received, not processed: 1" in out
    assert "deauthorization of another account" in out
    assert "DEAUTHORIZED" not in out
    assert document["webhooks_not_processed"] == [
        {
            "status": "ignored",
            "event": "app_deauthorized",
            "reason": "deauthorization of another account",
            "count": 1,
            "last_received_at": document["webhooks_not_processed"][0]["last_received_at"],  # type: ignore[index]
        }
    ]


def test_the_served_accounts_deauthorization_is_shown_plainly(
    capsys: pytest.CaptureFixture[str], store: tuple[Engine, Path]
) -> None:
    engine, config = store
    with transaction(engine) as conn:
        deauthorizations.record(conn, SERVED, "erased", now=NOW)
    out, document = _status(capsys, config)
    assert f"Zoom account {SERVED}: DEAUTHORIZED 2026-12-05 21:00 UTC (" in out
    assert "nothing flows until the app is installed again" in out
    account = document["zoom_account"]
    assert isinstance(account, dict)
    assert (account["deauthorized"], account["account_id"]) == (True, SERVED)
    assert account["counts"] == {"erased": 1, "ignored": 0}
