"""The retry layers do not multiply: one outbox row against a Brevo that answers every call
with 503 costs one HTTP try per outbox attempt (issue 17 item 1).

The client keeps its default budget (``BackoffPolicy().max_attempts``) with millisecond
waits, the outbox its default ``outbox.DEFAULT_MAX_ATTEMPTS``: a POST that reached Brevo
is not retried in the client, the outbox decides (``retrying.decide``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import Engine

from tests.delivery.conftest import API_KEY, calls, deliverer, enqueue
from tests.delivery.test_worker import attended, attendee
from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.pipeline.commands import Command
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.store import deadletters, outbox
from zoom_brevo.store.engine import reading

QUICK = BackoffPolicy(base_s=0.001, cap_s=0.002)  # the default attempts, short waits


@pytest.fixture
async def default_brevo(base_url: str) -> AsyncIterator[BrevoClient]:
    async with BrevoClient(API_KEY, base_url, backoff=QUICK, limiter=LocalRateLimiter({})) as c:
        yield c


@pytest.mark.parametrize("case", [("contact", "/contacts"), ("event", "/events")], ids=str)
async def test_one_outbox_row_costs_one_http_try_per_attempt_against_a_brevo_down(
    engine: Engine,
    default_brevo: BrevoClient,
    emu: BrevoEmulator,
    lists: dict[str, int],
    case: tuple[str, str],
) -> None:
    kind, path = case
    command: Command = (
        attendee(1, lists["meeting_participants"]) if kind == "contact" else attended(1)
    )
    enqueue(engine, command)
    emu.faults.fail_next(10_000, status=503)

    report = await deliverer(engine, default_brevo, retry_policy=QUICK).drain(deadline_s=30)

    assert report.dead == 1
    with reading(engine) as conn:
        [letter] = deadletters.list_dead(conn)
    assert letter.attempts == outbox.DEFAULT_MAX_ATTEMPTS
    # Before: the upsert cost 96 tries (16 attempts x 6 client tries), the event 16.
    assert calls(emu, path) == outbox.DEFAULT_MAX_ATTEMPTS
