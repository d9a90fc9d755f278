"""Intake decisions: content type, parsing, classification and the dedupe key (pure)."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoom_brevo.errors import WebhookRejected
from zoom_brevo.server.intake import (
    MAX_NESTING,
    Notification,
    UrlValidation,
    check_content_type,
    classify,
    declared_length,
    dedupe_key,
    stored_headers,
)

JOINED: dict[str, Any] = {
    "event": "meeting.participant_joined",
    "event_ts": 1_700_000_000_000,
    "payload": {
        "account_id": "acct",
        "object": {
            "id": "85012345678",
            "uuid": "abc//d==",
            "participant": {
                "user_id": "16778240",
                "user_name": "Ann",
                "participant_uuid": "P-1",
                "email": "ann@example.com",
                "join_time": "2025-03-01T10:00:00Z",
            },
        },
    },
}
RECORDING: dict[str, Any] = {
    "event": "recording.completed",
    "event_ts": 1_700_000_000_000,
    "download_token": "tok-1",
    "payload": {
        "account_id": "acct",
        "object": {
            "id": 85012345678,
            "uuid": "abc//d==",
            "recording_files": [
                {"id": "f1", "download_url": "https://a.example/1"},
                {"id": "f2", "download_url": "https://a.example/2"},
            ],
        },
    },
}
REGISTRATION: dict[str, Any] = {
    "event": "webinar.registration_approved",
    "event_ts": 1_700_000_000_000,
    "payload": {
        "account_id": "acct",
        "operator": "host@example.com",
        "object": {"id": 9, "uuid": "W==", "registrant": {"id": "R1", "email": "r@example.com"}},
    },
}


def variant(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    "value", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_content_types_are_accepted(value: str) -> None:
    check_content_type(value)


@pytest.mark.parametrize("value", [None, "", "text/plain", "application/x-www-form-urlencoded"])
def test_other_content_types_are_refused_with_415(value: str | None) -> None:
    with pytest.raises(WebhookRejected) as caught:
        check_content_type(value)
    assert (caught.value.status, caught.value.reason) == (415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("header", "expected"), [("12", 12), (" 7 ", 7), (None, None), ("-1", None), ("x", None)]
)
def test_declared_length_reads_only_plain_numbers(header: str | None, expected: int | None) -> None:
    assert declared_length(header) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        (b"[" * 100_000 + b"]" * 100_000, "nested_too_deeply"),
        (b"[1, 2]", "not_an_object"),
        (b'"meeting.started"', "not_an_object"),
        (b"{}", "no_event"),
        (b'{"event": 3}', "no_event"),
        (b'{"event": ""}', "no_event"),
        (b'{"event": "meeting started; drop table"}', "no_event"),
        (json.dumps({"event": "a" * 101}).encode(), "no_event"),
        (b'{"event": "endpoint.url_validation", "payload": {}}', "no_plain_token"),
    ],
)
def test_bodies_that_are_not_zoom_events_are_400(raw: bytes, reason: str) -> None:
    with pytest.raises(WebhookRejected) as caught:
        classify(raw)
    assert (caught.value.status, caught.value.reason) == (400, reason)


def test_url_validation_is_classified_as_the_challenge() -> None:
    raw = b'{"event":"endpoint.url_validation","payload":{"plainToken":"abc"}}'
    assert classify(raw) == UrlValidation("abc")


def test_unknown_events_are_notifications_too() -> None:
    intake = classify(b'{"event":"meeting.chat_message_sent","payload":{"x":1}}')
    assert isinstance(intake, Notification)
    assert intake.event_type == "meeting.chat_message_sent"


def test_dedupe_key_names_the_event_and_is_bounded() -> None:
    key = dedupe_key(JOINED)
    assert key.startswith("meeting.participant_joined:")
    assert len(key) <= 100 + 1 + 64


def test_recording_completed_duplicates_differing_in_download_links_share_a_key() -> None:
    # Zoom has sent two recording.completed for one recording from different IPs that
    # differed only in download_url/download_token (reference zoom.md 4.3).
    other = variant(RECORDING, ("download_token",), "tok-2")
    other = variant(other, ("payload", "object", "recording_files", 0, "download_url"), "x")
    other = variant(other, ("event_ts",), 1_700_000_000_999)
    assert dedupe_key(other) == dedupe_key(RECORDING)


def test_recording_with_other_files_is_a_new_event() -> None:
    other = variant(RECORDING, ("payload", "object", "recording_files", 1, "id"), "f3")
    assert dedupe_key(other) != dedupe_key(RECORDING)


def test_a_rejoin_is_a_new_event_but_a_redelivery_is_not() -> None:
    rejoin = variant(
        JOINED, ("payload", "object", "participant", "join_time"), "2025-03-01T10:05:00Z"
    )
    redelivery = json.loads(json.dumps(JOINED, indent=2))
    assert dedupe_key(rejoin) != dedupe_key(JOINED)
    assert dedupe_key(redelivery) == dedupe_key(JOINED)


def test_two_people_joining_at_the_same_second_are_two_events() -> None:
    other = variant(JOINED, ("payload", "object", "participant", "participant_uuid"), "P-2")
    other = variant(other, ("payload", "object", "participant", "user_id"), "16778241")
    assert dedupe_key(other) != dedupe_key(JOINED)


def test_joined_and_left_of_one_session_differ() -> None:
    left = variant(JOINED, ("event",), "meeting.participant_left")
    assert dedupe_key(left) != dedupe_key(JOINED)


def test_registration_key_follows_the_registrant_and_the_moment() -> None:
    other_operator = variant(REGISTRATION, ("payload", "operator"), "someone@example.com")
    approved_again = variant(REGISTRATION, ("event_ts",), 1_700_000_900_000)
    other_person = variant(REGISTRATION, ("payload", "object", "registrant", "id"), "R2")
    assert dedupe_key(other_operator) == dedupe_key(REGISTRATION)
    assert dedupe_key(approved_again) != dedupe_key(REGISTRATION)
    assert dedupe_key(other_person) != dedupe_key(REGISTRATION)


def test_started_and_ended_are_keyed_by_instance() -> None:
    started = {"event": "meeting.started", "event_ts": 1, "payload": {"object": {"uuid": "U"}}}
    later = variant(started, ("event_ts",), 2)
    other = variant(started, ("payload", "object", "uuid"), "V")
    assert dedupe_key(later) == dedupe_key(started)
    assert dedupe_key(other) != dedupe_key(started)


def test_events_without_identifiers_fall_back_to_time_and_content() -> None:
    body = {"event": "app_deauthorized", "payload": {"user_id": "u", "event_ts": "x"}}
    assert dedupe_key(body) == dedupe_key(json.loads(json.dumps(body, indent=1)))
    assert dedupe_key(body) != dedupe_key(variant(body, ("payload", "user_id"), "v"))


def test_accounts_do_not_share_keys() -> None:
    other = variant(JOINED, ("payload", "account_id"), "acct-2")
    assert dedupe_key(other) != dedupe_key(JOINED)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(payload=json_values, event_ts=json_values)
def test_any_event_object_gets_a_stable_key(payload: Any, event_ts: Any) -> None:
    body = {"event": "meeting.participant_joined", "event_ts": event_ts, "payload": payload}
    raw = json.dumps(body).encode()
    first, second = classify(raw), classify(json.dumps(body, indent=3).encode())
    assert isinstance(first, Notification)
    assert isinstance(second, Notification)
    assert first.dedupe_key == second.dedupe_key


# The inbox's unique index holds keys made by earlier releases: the same webhook must
# get the very same bytes, however the key is computed.
def test_dedupe_keys_are_those_of_earlier_releases() -> None:
    alert = {
        "event": "meeting.alert",
        "event_ts": 1,
        "payload": {"z": [1.5, None, True, "caf\u00e9 \u2603"], "a": {"b": -1e300}},
    }
    assert dedupe_key(JOINED) == (
        "meeting.participant_joined:5d8f18937425128bafd8fa6e24de0f469aabd1aab29eb3e8c4a802cf08abe32b"
    )
    assert dedupe_key(alert) == (
        "meeting.alert:8c1843891d1c7e6b9e0cb20f9e9f35fc7808b0a78f16a198fa89a70d11273747"
    )


payloads = st.dictionaries(
    st.text(max_size=5),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=10,
    ),
    max_size=4,
)


@given(payload=payloads, event_ts=json_values)
def test_a_key_is_the_sha256_of_the_canonical_json_earlier_releases_wrote(
    payload: dict[str, Any], event_ts: Any
) -> None:
    body = {"event": "meeting.alert", "event_ts": event_ts, "payload": payload}
    canonical = json.dumps(
        ["meeting.alert", event_ts, payload],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    assert dedupe_key(body) == f"meeting.alert:{digest}"


def test_stored_headers_mask_the_signature_and_authorization_only() -> None:
    kept = stored_headers(
        {
            "X-Zm-Signature": "v0=abc",
            "Authorization": "legacy-token",
            "x-zm-request-timestamp": "1",
            "x-zm-trackingid": "v=2.0;rid=1",
        }
    )
    assert kept["x-zm-signature"] != "v0=abc"
    assert kept["authorization"] != "legacy-token"
    assert kept["x-zm-request-timestamp"] == "1"
    assert kept["x-zm-trackingid"] == "v=2.0;rid=1"


def deep_event(depth: int) -> bytes:
    """An event whose JSON nests exactly ``depth`` levels (the event object is level 1)."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return ('{"event":"meeting.started","deep":%s}' % inner).encode()  # noqa: UP031


@pytest.mark.parametrize(
    ("raw", "accepted"),
    [
        (deep_event(MAX_NESTING), True),
        (deep_event(MAX_NESTING + 1), False),
        (b'{"event":"meeting.started","many":[' + b",".join([b"[]"] * 500) + b"]}", True),
        (b'{"event":"meeting.started","text":"' + b"[{" * 500 + b'"}', True),
        (b'{"event":"meeting.started","d":' + b"[" * 65 + b'"[[[["' + b"]" * 65 + b"}", False),
    ],
)
def test_the_nesting_cap_counts_levels_not_brackets(raw: bytes, accepted: bool) -> None:
    if accepted:
        assert isinstance(classify(raw), Notification)
        return
    with pytest.raises(WebhookRejected) as caught:
        classify(raw)
    assert caught.value.reason == "nested_too_deeply"


def test_stored_headers_mask_by_name_in_any_case_and_among_many_names() -> None:
    names = [f"x-custom-{i}" for i in range(1_000)]  # more names than any cache holds
    headers = dict.fromkeys(names, "v") | {"X-ZM-SIGNATURE": "v0=abc", "x-zm-request-id": "r"}
    for _ in range(2):
        kept = stored_headers(headers)
        assert kept["x-zm-signature"] != "v0=abc"
        assert kept["x-zm-request-id"] == "r"
        assert all(kept[name] == "v" for name in names)
    assert stored_headers({"x-Zm-Signature": "v0=abc"}) == {
        "x-zm-signature": kept["x-zm-signature"]
    }
