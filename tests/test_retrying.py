"""The one retry decision, specified by its properties (``zoom_brevo.retrying``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoom_brevo import errors
from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.retrying import (
    OUT_OF_ATTEMPTS,
    GiveUp,
    RetryAt,
    client_may_retry,
    decide,
    exhausted,
    schedule,
)

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
policies = st.builds(
    BackoffPolicy,
    base_s=st.floats(min_value=0.0, max_value=100.0),
    cap_s=st.floats(min_value=0.0, max_value=10_000.0),
)
attempts = st.integers(min_value=1, max_value=50)
budgets = st.integers(min_value=1, max_value=50)
waits = st.none() | st.floats(min_value=0.0, max_value=86_400.0)
seeds = st.integers(min_value=0, max_value=2**32)


def transient(wait_s: float | None) -> list[BaseException]:
    return [
        errors.RetriableApiError("503", service="brevo", status=503, retry_after_s=wait_s),
        errors.RateLimited("429", service="zoom", status=429, retry_after_s=wait_s),
        errors.NotReady("3001", service="zoom", status=404, retry_after_s=wait_s),
    ]


PERMANENT_ERRORS: list[BaseException] = [
    errors.ConfigError("bad key"),
    errors.FatalApiError("no", service="zoom", status=400),
    errors.PayloadRejected("bad body", service="brevo", status=400),
    errors.NotFound("gone", service="zoom", status=404),
]


@given(attempts, budgets, policies, waits, seeds)
def test_a_transient_error_is_retried_within_the_budget_and_given_up_after(
    attempt: int, budget: int, policy: BackoffPolicy, wait_s: float | None, seed: int
) -> None:
    for error in transient(wait_s):
        verdict = decide(attempt, error, NOW, backoff=policy, max_attempts=budget,
                         rng=random.Random(seed))  # fmt: skip
        if attempt >= budget:
            assert verdict == GiveUp(OUT_OF_ATTEMPTS)
        else:
            assert isinstance(verdict, RetryAt)


@given(attempts, policies, waits, seeds)
def test_a_retry_waits_the_backoff_and_at_least_what_the_server_asked(
    attempt: int, policy: BackoffPolicy, wait_s: float | None, seed: int
) -> None:
    for error in transient(wait_s):
        verdict = decide(attempt, error, NOW, backoff=policy, max_attempts=attempt + 1,
                         rng=random.Random(seed))  # fmt: skip
        assert isinstance(verdict, RetryAt)
        waited = (verdict.when - NOW).total_seconds()
        ceiling = policy.ceiling_s(attempt - 1)
        assert waited >= ceiling / 2 - 1e-6  # the jitter keeps half the backoff
        assert waited <= max(ceiling, wait_s or 0.0) + 1e-6
        if wait_s is not None:
            assert waited >= wait_s - 1e-6


@given(st.integers(min_value=1, max_value=30), policies)
def test_the_ceiling_of_the_wait_never_shrinks_with_the_attempts(
    attempt: int, policy: BackoffPolicy
) -> None:
    assert policy.ceiling_s(attempt) >= policy.ceiling_s(attempt - 1)


@given(attempts, budgets, policies)
def test_a_permanent_error_is_given_up_at_once_whatever_the_budget(
    attempt: int, budget: int, policy: BackoffPolicy
) -> None:
    for error in PERMANENT_ERRORS:
        verdict = decide(attempt, error, NOW, backoff=policy, max_attempts=budget)
        assert isinstance(verdict, GiveUp) and not verdict.stop
        assert str(error) in verdict.reason


@pytest.mark.parametrize(
    "error",
    [
        errors.AuthError("bad key", service="brevo", status=401),
        errors.InvalidGrant("re-auth", service="zoom"),
    ],
)
def test_refused_credentials_stop_on_the_first_try(error: BaseException) -> None:
    verdict = decide(1, error, NOW, backoff=BackoffPolicy(), max_attempts=10)
    assert isinstance(verdict, GiveUp) and verdict.stop


@given(attempts, budgets)
def test_unexpected_and_store_errors_are_transient_unless_the_caller_says_fatal(
    attempt: int, budget: int
) -> None:
    policy = BackoffPolicy(base_s=1.0, cap_s=1.0)
    for error in (errors.StoreError("db down"), KeyError("uuid")):
        verdict = decide(attempt, error, NOW, backoff=policy, max_attempts=budget)
        assert isinstance(verdict, RetryAt) == (attempt < budget)
        fatal = decide(attempt, error, NOW, backoff=policy, max_attempts=budget,
                       fatal=(type(error),))  # fmt: skip
        assert isinstance(fatal, GiveUp)


@given(attempts, budgets, st.floats(min_value=-10.0, max_value=10_000.0))
def test_schedule_is_the_budget_rule_and_never_goes_back_in_time(
    attempt: int, budget: int, wait_s: float
) -> None:
    verdict = schedule(attempt, budget, wait_s, NOW)
    assert isinstance(verdict, GiveUp) == exhausted(attempt, budget) == (attempt >= budget)
    if isinstance(verdict, RetryAt):
        assert verdict.when == NOW + timedelta(seconds=max(0.0, wait_s))


methods = st.sampled_from(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "POST", "PATCH", "get"])


@given(methods, waits, st.booleans())
def test_a_client_retries_only_what_is_always_safe(
    method: str, wait_s: float | None, never_sent: bool
) -> None:
    idempotent = method.upper() in {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
    limited = errors.RateLimited("429", service="brevo", status=429, retry_after_s=wait_s)
    down = errors.RetriableApiError("503", service="brevo", status=503, retry_after_s=wait_s)
    later = errors.NotReady("3001", service="zoom", status=404)
    assert client_may_retry(method, limited, never_sent=never_sent)
    assert client_may_retry(method, down, never_sent=never_sent) == (idempotent or never_sent)
    assert not client_may_retry(method, later, never_sent=never_sent)
    for error in PERMANENT_ERRORS:
        assert not client_may_retry(method, error, never_sent=never_sent)
