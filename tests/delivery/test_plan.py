"""Pure planning and decisions: which requests deliver a batch, what follows a failure."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.brevo.families import PLANS, windows
from zoom_brevo.delivery.decisions import (
    CHECK_BUDGET_SHARE,
    GIVE_UP_AFTER_S,
    CheckSchedule,
    decide,
    import_threshold_for,
    is_transient_message,
)
from zoom_brevo.delivery.plan import (
    VERSIONS_PER_REQUEST,
    idempotency_key,
    plan_batch,
    plan_emails,
    plan_events,
)
from zoom_brevo.errors import (
    AuthError,
    NotFound,
    PayloadRejected,
    RateLimited,
    RetriableApiError,
)
from zoom_brevo.pipeline.commands import CreateCampaignList, SendCampaign, command_from_payload
from zoom_brevo.store.outbox import Merged

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def contact(row: int, email: str, lists: tuple[int, ...] = (), **attrs: Any) -> Merged:
    payload = {"email": email, "attributes": attrs, "list_ids": list(lists)}
    return Merged("contact", f"contact:{email}", payload, (row,))


def event(row: int, key: str, email: str = "a@x.io") -> Merged:
    payload = {"event_name": "zoom_attended", "email": email, "ledger_key": key}
    return Merged("event", f"event:{key}", payload, (row,))


def email(row: int, key: str, template: int = 7) -> Merged:
    payload = {"template_id": template, "email": f"{key}@x.io", "ledger_key": key}
    return Merged("email", f"email:{key}", payload, (row,))


def test_below_the_threshold_every_contact_is_upserted() -> None:
    plan = plan_batch([contact(1, "a@x.io", (1,)), contact(2, "b@x.io")], import_threshold=3)
    assert plan.imports == ()
    assert [c.email for c in plan.upserts] == ["a@x.io", "b@x.io"]


def test_at_the_threshold_contacts_are_imported_per_identical_list_set() -> None:
    merged = [
        contact(1, "a@x.io", (1, 2)),
        contact(2, "b@x.io", (2, 1)),
        contact(3, "c@x.io", (3,)),
        contact(4, "d@x.io"),
    ]
    plan = plan_batch(merged, import_threshold=4)
    assert [(r.list_ids, [c.email for c in r.contacts]) for r in plan.imports] == [
        ((1, 2), ["a@x.io", "b@x.io"]),
        ((3,), ["c@x.io"]),
    ]
    assert [c.email for c in plan.upserts] == ["d@x.io"]  # an import needs a list
    assert plan.contact_count == 4
    assert plan.imports[0].ids == (1, 2)


def test_import_rows_carry_email_and_attributes_lower_cased_address() -> None:
    plan = plan_batch([contact(1, "Ann@X.io", (1,), FIRSTNAME="Ann")], import_threshold=1)
    assert plan.imports[0].rows() == [{"email": "ann@x.io", "attributes": {"FIRSTNAME": "Ann"}}]


def test_the_same_effect_twice_in_a_batch_is_planned_once_for_both_rows() -> None:
    plan = plan_batch([event(1, "k"), event(2, "k"), event(3, "other")], import_threshold=50)
    assert [(e.ledger_key, e.ids) for e in plan.effects] == [("k", (1, 2)), ("other", (3,))]


def test_malformed_and_unknown_commands_are_set_aside() -> None:
    merged = [
        Merged("event", None, {"email": "a@x.io"}, (1,)),
        Merged("teleport", None, {}, (2,)),
    ]
    plan = plan_batch(merged, import_threshold=50)
    assert [m.ids for m in plan.malformed] == [(1,), (2,)]
    assert "event_name" in plan.malformed[0].reason
    assert "teleport" in plan.malformed[1].reason


def test_events_keep_their_order_and_emails_are_grouped_per_template() -> None:
    effects = plan_batch(
        [event(i, f"e{i}") for i in range(150)]
        + [email(1000 + i, f"m{i}", template=7 + i % 2) for i in range(5)],
        import_threshold=50,
    ).effects
    assert [e.ledger_key for e in plan_events(effects)] == [f"e{i}" for i in range(150)]
    requests = plan_emails(effects)
    assert [(r.template_id, len(r.effects)) for r in requests] == [(7, 3), (8, 2)]


def test_email_requests_hold_at_most_1000_versions() -> None:
    effects = plan_batch(
        [email(i, f"m{i}") for i in range(VERSIONS_PER_REQUEST + 5)], import_threshold=50
    ).effects
    assert [len(r.effects) for r in plan_emails(effects)] == [VERSIONS_PER_REQUEST, 5]


@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=10))
def test_the_idempotency_key_depends_only_on_the_set_of_ledger_keys(keys: list[str]) -> None:
    assert idempotency_key(keys) == idempotency_key(reversed(keys + keys[:1]))
    assert idempotency_key(keys) != idempotency_key([*keys, "\x00extra"])


NO_JITTER = random.Random(0)
POLICY = BackoffPolicy(base_s=1.0, cap_s=100.0)


@pytest.mark.parametrize(
    ("error", "attempts", "expected"),
    [
        (AuthError("bad key", service="brevo", status=401), 1, "stop"),
        (PayloadRejected("bad", service="brevo", status=400), 1, "bury"),
        (NotFound("gone", service="brevo", status=404), 1, "bury"),
        (RetriableApiError("503", service="brevo", status=503), 1, "retry"),
        (RetriableApiError("503", service="brevo", status=503), 5, "bury"),
    ],
)
def test_decisions_by_error(error: Exception, attempts: int, expected: str) -> None:
    assert isinstance(error, AuthError | PayloadRejected | NotFound | RetriableApiError)
    decision = decide(error, attempts=attempts, max_attempts=5, policy=POLICY, now=NOW)
    assert decision.action == expected


def test_a_retry_waits_at_least_what_brevo_asked() -> None:
    error = RateLimited("429", service="brevo", status=429, retry_after_s=30)
    decision = decide(error, attempts=1, max_attempts=5, policy=POLICY, now=NOW, rng=NO_JITTER)
    assert decision.at is not None
    assert decision.at >= NOW + timedelta(seconds=30)


def test_per_event_errors_about_limits_are_transient_and_validation_errors_not() -> None:
    assert is_transient_message("Rate limit exceeded, try later")
    assert not is_transient_message("event_name is required")


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=10**6))
def test_import_checks_widen_and_stay_capped(done: int, contacts: int) -> None:
    schedule = CheckSchedule(start_s=30, cap_s=600)
    assert schedule.delay_s(0) == 30
    assert schedule.delay_s(0, contacts) == schedule.first_s(contacts)
    assert schedule.delay_s(done, contacts) <= schedule.delay_s(done + 1, contacts) <= 600


def test_a_small_import_is_first_read_when_it_can_have_finished_not_after_a_fixed_10_s() -> None:
    schedule = CheckSchedule.for_plan("general")
    assert schedule.first_s(50) < 1.1
    assert schedule.first_s(2_000) < 2  # a sync of 1,000 attendees and 1,000 absentees
    assert schedule.first_s(0) == schedule.start_s


def test_the_first_read_of_an_import_waits_longer_the_more_contacts_it_carries() -> None:
    schedule = CheckSchedule()
    assert schedule.first_s(5_000) == pytest.approx(schedule.start_s + 1.0)
    assert schedule.first_s(100) < schedule.first_s(5_000) < schedule.first_s(50_000)
    assert schedule.first_s(10**9) == schedule.cap_s


@pytest.mark.parametrize("plan", PLANS)
def test_capped_reads_of_a_slow_import_use_a_small_share_of_the_plans_other_budget(
    plan: str,
) -> None:
    schedule = CheckSchedule.for_plan(plan)
    _per_s, per_hour = windows(plan, "other")
    assert per_hour is not None
    assert 3600 / schedule.cap_s <= CHECK_BUDGET_SHARE * per_hour + 1e-9
    waits = [schedule.delay_s(n) for n in range(schedule.max_checks)]
    assert sum(waits[:-1]) < GIVE_UP_AFTER_S <= sum(waits)  # given up after about 6 hours


def test_a_larger_plan_reads_a_slow_import_more_often() -> None:
    general, extended = CheckSchedule.for_plan("general"), CheckSchedule.for_plan("extended")
    assert (general.cap_s, extended.cap_s) == (600, 100)
    assert extended.max_checks > general.max_checks


def test_the_default_retry_budget_rides_out_an_hour_of_brevo_failure() -> None:
    from zoom_brevo.delivery.worker import DEFAULT_RETRY_POLICY  # noqa: PLC0415
    from zoom_brevo.store.outbox import DEFAULT_MAX_ATTEMPTS  # noqa: PLC0415

    always_low = random.Random()
    always_low.random = lambda: 0.0  # type: ignore[method-assign]
    waits = [DEFAULT_RETRY_POLICY.delay_s(a, always_low) for a in range(DEFAULT_MAX_ATTEMPTS - 1)]
    assert sum(waits) >= 3600  # the shortest jittered path to the last attempt


def test_a_batch_is_imported_from_a_seconds_worth_of_single_upserts_at_the_plans_rate() -> None:
    assert [import_threshold_for(plan) for plan in PLANS] == [10, 20, 60]


def test_campaign_commands_are_planned_apart_once_per_ledger_key() -> None:
    send = SendCampaign(
        "Zoom recording - Launch", "Recording: Launch", {"email": "team@x.io"}, 3, (12,),
        "created:u1", "sent:u1", {"SHARE_URL": "https://zoom.test/r"},
    )  # fmt: skip
    listed = CreateCampaignList("Zoom recording - Launch", "list:u1")
    rows = [
        Merged(c.kind, c.coalescing_key, c.to_payload(), (i,))
        for i, c in enumerate((listed, send, send, listed), start=1)
    ]
    bad = Merged("campaign", "campaign:x", {"name": "no ledger key"}, (9,))
    plan = plan_batch([*rows, event(5, "k"), bad], import_threshold=10)
    assert [(w.command, w.ids) for w in plan.campaigns] == [(listed, (1, 4)), (send, (2, 3))]
    assert [e.ledger_key for e in plan.effects] == ["k"]
    assert [m.ids for m in plan.malformed] == [(9,)]
    assert command_from_payload("campaign", send.to_payload()) == send
