"""Endpoint families and their per-plan limits (brevo.md section 5)."""

from __future__ import annotations

import pytest

from zoom_brevo.brevo.families import family_of, limits_for
from zoom_brevo.ratelimit import Limit
from zoom_brevo.sandbox.brevo.limits import family as emulated_family


@pytest.mark.parametrize(
    ("method", "path", "family"),
    [
        ("POST", "/contacts", "contacts"),
        ("POST", "/contacts/import", "contacts"),
        ("POST", "/contacts/lists/3/contacts/add", "contacts"),
        ("GET", "/contacts/attributes", "contacts"),
        ("POST", "/events", "events"),
        ("POST", "/events/batch", "events"),
        ("POST", "/smtp/email", "smtp_email"),
        ("GET", "/smtp/blockedContacts", "smtp_email"),
        ("DELETE", "/smtp/blockedContacts/a@example.com", "smtp"),
        ("GET", "/smtp/templates", "smtp"),
        ("GET", "/processes/7", "other"),
        ("GET", "/account", "other"),
        ("POST", "/emailCampaigns/4/sendNow", "other"),
    ],
)
def test_each_endpoint_belongs_to_its_family(method: str, path: str, family: str) -> None:
    assert family_of(method, path) == family
    # The emulated Brevo keeps its own table (a check on this one): both must agree.
    assert emulated_family(method, path) == family


def most_calls_in_a_window(limit: Limit, window_s: float) -> float:
    return limit.burst + limit.rate_per_s * window_s


@pytest.mark.parametrize(
    ("key", "window_s", "budget"),
    [
        ("brevo:contacts", 1, 10),
        ("brevo:contacts:hour", 3600, 36_000),
        ("brevo:events", 1, 10),
        ("brevo:smtp_email", 1, 1000),
        ("brevo:smtp:hour", 3600, 300),
        ("brevo:other:hour", 3600, 100),
    ],
)
def test_general_plan_never_exceeds_a_documented_window(
    key: str, window_s: float, budget: int
) -> None:
    limit = limits_for("general")[key]
    assert most_calls_in_a_window(limit, window_s) == pytest.approx(budget)
    assert limit.burst >= 1


def test_other_endpoints_have_no_per_second_window() -> None:
    assert "brevo:other" not in limits_for("general")


def test_higher_plans_raise_the_limits() -> None:
    assert most_calls_in_a_window(limits_for("advanced")["brevo:contacts"], 1) == 20
    assert most_calls_in_a_window(limits_for("extended")["brevo:other:hour"], 3600) == 600


def test_unknown_plan_is_refused() -> None:
    with pytest.raises(ValueError, match="general"):
        limits_for("platinum")
