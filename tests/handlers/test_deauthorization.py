"""``app_deauthorized``: only the served account's erases; another account's changes nothing.

Realistic data: the served account's webinar registrations arrive just before a signed
deauthorization of another account (Zoom's own documentation sample, ``AAAAAABBBB``), as
when one endpoint receives events for several accounts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.erasure import forget_account
from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.sandbox.scenario import Scenario, Webinar
from zoom_brevo.sandbox.webhook_sender import ZoomEvents
from zoom_brevo.server.metrics import Metrics
from zoom_brevo.store import deauthorizations, facts, inbox, outbox
from zoom_brevo.store.engine import reading

from .conftest import LISTS, NOW, processor, put

SERVED = "x1yCzABCDEfg23HiJKl4mN"
OPTIONS = HandlerOptions(lists=LISTS, account_id=SERVED)


def _webinar_with_registrants() -> tuple[Webinar, ZoomEvents]:
    sc = Scenario(seed=5, anchor=datetime(2025, 2, 20, 18, tzinfo=UTC))
    web = sc.webinar(sc.user(email="host@example.com"), topic="Live launch",
                     registrants=12, attendees=0, sources=1)  # fmt: skip
    return web, ZoomEvents(account_id=SERVED)


def _receive_registrations(engine: Engine, web: Webinar, events: ZoomEvents) -> None:
    for reg in web.registrants:
        put(engine, events.registration_created(web, reg))


def _doc_sample(shared_dir: Path) -> dict[str, object]:
    path = (
        shared_dir / "samples" / "zoom-webhooks" / "docs-marketplace-events_app_deauthorized.json"
    )
    return json.loads(path.read_text("utf-8"))  # type: ignore[no-any-return]


def test_another_accounts_deauthorization_changes_nothing(engine: Engine, shared_dir: Path) -> None:
    web, events = _webinar_with_registrants()
    _receive_registrations(engine, web, events)  # received, not processed yet
    put(engine, _doc_sample(shared_dir))  # account AAAAAABBBB, correctly signed upstream
    outcome = processor(engine, OPTIONS).process_all()
    assert (outcome.processed, outcome.failed) == (13, 0)
    with reading(engine) as conn:
        assert len(facts.list_registrants(conn, "webinar", web.id)) == 12
        assert outbox.counts(conn).get("queued", 0) == 24  # 12 contacts + 12 zoom_registered
        assert inbox.counts(conn) == {"processed": 13}
        found = deauthorizations.read(conn)
    assert not found.deauthorized
    assert found.counts == {"erased": 0, "ignored": 1}
    assert found.last_ignored_account_id == "AAAAAABBBB"


def test_the_served_accounts_deauthorization_erases_and_is_recorded(engine: Engine) -> None:
    web, events = _webinar_with_registrants()
    _receive_registrations(engine, web, events)
    processor(engine, OPTIONS).process_all()
    put(engine, events.app_deauthorized())
    processor(engine, OPTIONS).process_all()
    with reading(engine) as conn:
        assert facts.list_registrants(conn, "webinar", web.id) == []
        assert sum(outbox.counts(conn).values()) == 0
        found = deauthorizations.read(conn)
    assert found.deauthorized and found.account_id == SERVED
    assert found.deauthorized_at == NOW
    assert found.counts == {"erased": 1, "ignored": 0}


def test_webhooks_dropped_by_the_erasure_stay_visible_with_their_reason(engine: Engine) -> None:
    web, events = _webinar_with_registrants()
    put(engine, events.app_deauthorized())  # processed first: the registrations after it...
    _receive_registrations(engine, web, events)
    with reading(engine) as conn:
        pending = inbox.pending(conn)
    forget_account(engine, SERVED, now=NOW)  # ...or erased while still pending
    with reading(engine) as conn:
        groups = inbox.not_processed(conn)
    assert len(pending) == 13
    assert sum(g.count for g in groups) == 13
    assert {g.reason for g in groups} == {"erased: personal data removed"}
    assert {g.status for g in groups} == {"ignored"}


@pytest.mark.parametrize(("account", "outcome"), [("AAAAAABBBB", "ignored"), (SERVED, "erased")])
def test_metrics_count_deauthorizations_by_outcome(
    engine: Engine, account: str, outcome: str
) -> None:
    put(engine, ZoomEvents(account_id=account).app_deauthorized())
    processor(engine, OPTIONS).process_all()
    metrics = Metrics()
    metrics.watch_store(engine)
    text = metrics.render()[0].decode()
    assert f'zoom_brevo_deauthorizations_total{{outcome="{outcome}"}} 1.0' in text
