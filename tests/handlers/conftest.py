"""A migrated SQLite store per test, and helpers to put webhooks in its inbox."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.handlers.dispatch import InboxProcessor
from zoom_brevo.server.intake import dedupe_key
from zoom_brevo.store import engine as store_engine
from zoom_brevo.store import inbox
from zoom_brevo.store.engine import transaction

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LISTS = {
    "meeting_participants": 15,
    "webinar_attendees": 16,
    "webinar_registrants": 17,
    "webinar_absentees": 18,
}


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("handlers") / "template.db"
    engine = store_engine.create_engine(f"sqlite:///{path}")
    store_engine.migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def engine(migrated: Path, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated store."""
    path = tmp_path / "store.db"
    shutil.copy(migrated, path)
    created = store_engine.create_engine(f"sqlite:///{path}")
    yield created
    created.dispose()


def put(engine: Engine, body: dict[str, Any] | bytes, *, now: datetime = NOW) -> int | None:
    """Store a webhook as the server would (content dedupe key); its row id."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    parsed = json.loads(raw)
    with transaction(engine) as conn:
        return inbox.insert(
            conn,
            dedupe_key=dedupe_key(parsed),
            event_type=str(parsed.get("event")),
            raw_body=raw,
            headers={},
            now=now,
        )


def processor(engine: Engine, options: HandlerOptions | None = None) -> InboxProcessor:
    """An inbox processor at ``NOW`` with the test lists."""
    return InboxProcessor(engine, options or HandlerOptions(lists=LISTS), lambda: NOW)
