"""Rate categories, scopes and plan limits agree with Zoom's spec and docs (zoom.md 2.1, 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from zoom_brevo.ratelimit import Limit
from zoom_brevo.zoom.categories import (
    DAILY_HEAVY_KEY,
    ENDPOINTS,
    RECORDING_VIEW_SUMMARY,
    RECORDING_VIEWS,
    WRITES,
    Category,
    Endpoint,
    limiter_keys,
    per_second_limit,
    zoom_limits,
)

_LABEL = re.compile(r"Rate Limit Label\]\([^)]*\):\*\* `(\w+)`")


def _operation(shared_dir: Path, path: str, method: str = "get") -> dict[str, object]:
    name = (
        "zoom-users-open-api-spec.json" if path == "/users" else "zoom-meeting-open-api-spec.json"
    )
    spec = json.loads((shared_dir / "specs" / "zoom" / name).read_text())
    spec_path = re.sub(r"\{(\w+)_id\}", r"{\1Id}", path)  # {meeting_id} -> {meetingId}
    operation: dict[str, object] = spec["paths"][spec_path][method]
    return operation


@pytest.mark.shared
@pytest.mark.parametrize("endpoint", ENDPOINTS + WRITES, ids=lambda e: f"{e.method} {e.path}")
def test_endpoint_category_and_scope_match_the_official_spec(
    shared_dir: Path, endpoint: Endpoint
) -> None:
    operation = _operation(shared_dir, endpoint.path, endpoint.method.lower())
    label = _LABEL.search(str(operation["description"]))
    assert label is not None
    assert Category(label.group(1).lower()) is endpoint.category
    granular = operation["x-extensions"]["x-granular-scopes"]  # type: ignore[index]
    assert endpoint.scopes[1] in granular


@pytest.mark.shared
@pytest.mark.parametrize("endpoint", [RECORDING_VIEWS, RECORDING_VIEW_SUMMARY])
def test_recording_analytics_carry_the_spec_scope_and_no_label(
    shared_dir: Path, endpoint: Endpoint
) -> None:
    operation = _operation(shared_dir, endpoint.path)
    assert _LABEL.search(str(operation["description"])) is None  # hence MEDIUM, as the lists
    granular = operation["x-extensions"]["x-granular-scopes"]  # type: ignore[index]
    assert set(endpoint.scopes) <= set(granular)


@pytest.mark.parametrize("calls_per_s", [1, 2, 4, 10, 20, 30, 40, 60, 80])
def test_per_second_bucket_never_exceeds_the_limit_in_any_second(calls_per_s: int) -> None:
    limit = per_second_limit(calls_per_s)
    # burst b plus rate r is the most calls a one-second window can hold
    assert limit.burst + limit.rate_per_s <= calls_per_s or (
        limit.burst == 1 and limit.rate_per_s < calls_per_s
    )


def test_pro_is_30_20_10_per_second_with_a_30000_daily_heavy_cap() -> None:
    limits = zoom_limits("pro")
    assert limits["zoom:light"].rate_per_s + limits["zoom:light"].burst <= 30
    assert limits["zoom:medium"].rate_per_s + limits["zoom:medium"].burst <= 20
    assert limits["zoom:heavy"].rate_per_s + limits["zoom:heavy"].burst <= 10
    assert limits[DAILY_HEAVY_KEY].burst == 30_000
    assert limits["zoom:resource-intensive"].rate_per_s <= 10 / 60


def test_business_daily_heavy_cap_is_60000_and_free_caps_each_category() -> None:
    assert zoom_limits("business")[DAILY_HEAVY_KEY] == Limit(60_000 / 86_400, 60_000)
    free = zoom_limits("free")
    assert free["zoom:daily-light"].burst == 6_000
    assert free["zoom:daily-medium"].burst == 2_000
    assert free["zoom:daily-heavy"].burst == 1_000


def test_heavy_and_resource_intensive_calls_count_against_the_shared_daily_cap() -> None:
    assert limiter_keys(Category.HEAVY, "pro") == ("zoom:heavy", DAILY_HEAVY_KEY)
    assert limiter_keys(Category.RESOURCE_INTENSIVE, "business") == (
        "zoom:resource-intensive",
        DAILY_HEAVY_KEY,
    )
    assert limiter_keys(Category.MEDIUM, "pro") == ("zoom:medium",)
    assert limiter_keys(Category.MEDIUM, "free") == ("zoom:medium", "zoom:daily-medium")


def test_every_limiter_key_has_a_limit() -> None:
    for plan in ("free", "pro", "business"):
        limits = zoom_limits(plan)
        for category in Category:
            for key in limiter_keys(category, plan):
                assert key in limits


def test_unknown_plan_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Zoom plan"):
        zoom_limits("enterprise")  # type: ignore[arg-type]
