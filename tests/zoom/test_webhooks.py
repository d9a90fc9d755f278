"""Zoom webhook signatures and URL validation (reference zoom.md 4.2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoom_brevo.errors import WebhookRejected
from zoom_brevo.zoom.webhooks import (
    DEFAULT_TOLERANCE_S,
    MAX_FUTURE_S,
    sign,
    url_validation_response,
    verify,
)

SECRET = "whsec-test"
NOW = 1_739_923_528


def headers(timestamp: int | str, signature: str) -> dict[str, str]:
    return {"x-zm-request-timestamp": str(timestamp), "x-zm-signature": signature}


def test_signature_is_v0_hmac_sha256_hex_of_version_timestamp_and_body() -> None:
    # printf 'v0:1:{}' | openssl dgst -sha256 -hmac key
    expected = "v0=236beeb373582a83005d170cf7966f7bc1bc3d8e39280320817c04d7ea3fab6e"
    assert sign("key", 1, b"{}") == expected


def test_url_validation_encrypts_the_plain_token_with_hmac_sha256() -> None:
    # RFC-style well-known vector: HMAC-SHA256(key="key", "The quick brown fox ...").
    answer = url_validation_response("key", "The quick brown fox jumps over the lazy dog")
    assert answer == {
        "plainToken": "The quick brown fox jumps over the lazy dog",
        "encryptedToken": "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
    }


@given(secret=st.text(min_size=1), body=st.binary(), skew=st.integers(-300, 300))
def test_what_sign_produces_verify_accepts(secret: str, body: bytes, skew: int) -> None:
    ts = NOW + skew
    verify(secret, headers(ts, sign(secret, ts, body)), body, now=NOW, tolerance_s=300)


@given(body=st.binary(min_size=1), flip=st.integers(min_value=0))
def test_any_changed_byte_is_rejected(body: bytes, flip: int) -> None:
    signature = sign(SECRET, NOW, body)
    i = flip % len(body)
    tampered = body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :]
    with pytest.raises(WebhookRejected) as caught:
        verify(SECRET, headers(NOW, signature), tampered, now=NOW)
    assert (caught.value.status, caught.value.reason) == (401, "bad_signature")


@pytest.mark.parametrize(
    ("sent_at", "reason"),
    [(NOW - 301, "stale_timestamp"), (NOW + 301, "future_timestamp")],
)
def test_timestamps_outside_the_tolerance_are_rejected(sent_at: int, reason: str) -> None:
    body = b'{"event":"meeting.started"}'
    with pytest.raises(WebhookRejected) as caught:
        verify(
            SECRET, headers(sent_at, sign(SECRET, sent_at, body)), body, now=NOW, tolerance_s=300
        )
    assert (caught.value.status, caught.value.reason) == (401, reason)


@pytest.mark.parametrize(
    ("given_headers", "reason"),
    [
        ({}, "missing_timestamp"),
        ({"x-zm-request-timestamp": str(NOW)}, "missing_signature"),
        ({"x-zm-request-timestamp": "yesterday", "x-zm-signature": "v0=00"}, "bad_timestamp"),
        ({"x-zm-request-timestamp": str(NOW), "x-zm-signature": "v0=00"}, "bad_signature"),
        ({"x-zm-request-timestamp": str(NOW), "x-zm-signature": "v1=ünïcode"}, "bad_signature"),
    ],
)
def test_missing_or_malformed_headers_are_rejected(
    given_headers: dict[str, str], reason: str
) -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify(SECRET, given_headers, b"{}", now=NOW)
    assert (caught.value.status, caught.value.reason) == (401, reason)


def test_a_signature_made_with_another_secret_is_rejected() -> None:
    body = b"{}"
    with pytest.raises(WebhookRejected, match="signature"):
        verify(SECRET, headers(NOW, sign("other", NOW, body)), body, now=NOW)


def test_header_names_are_matched_in_any_letter_case() -> None:
    body = b"{}"
    sent = {"X-Zm-Request-Timestamp": str(NOW), "X-ZM-Signature": sign(SECRET, NOW, body)}
    verify(SECRET, sent, body, now=NOW)


def test_zoom_samples_signed_over_their_raw_bytes_verify(shared_dir: Path) -> None:
    samples = sorted((shared_dir / "samples" / "zoom-webhooks").glob("*.json"))
    assert len(samples) >= 10
    for sample in samples:
        raw = sample.read_bytes()
        verify(SECRET, headers(NOW, sign(SECRET, NOW, raw)), raw, now=NOW)
        reserialised = json.dumps(json.loads(raw)).encode()
        with pytest.raises(WebhookRejected):
            verify(SECRET, headers(NOW, sign(SECRET, NOW, raw)), reserialised, now=NOW)


ZOOM_LAST_RETRY_S = (5 + 20 + 60) * 60  # reference zoom.md 4.3


def test_by_default_a_retry_stamped_at_the_first_attempt_is_accepted() -> None:
    # Whether Zoom re-stamps a retry is not documented, and a refused retry is never retried.
    body = b'{"event":"meeting.ended"}'
    sent_at = NOW - ZOOM_LAST_RETRY_S - 60
    verify(SECRET, headers(sent_at, sign(SECRET, sent_at, body)), body, now=NOW)


@pytest.mark.parametrize(
    ("sent_at", "reason"),
    [
        (NOW - int(DEFAULT_TOLERANCE_S) - 1, "stale_timestamp"),
        (NOW + int(MAX_FUTURE_S) + 1, "future_timestamp"),
    ],
)
def test_by_default_the_window_is_two_hours_back_and_five_minutes_ahead(
    sent_at: int, reason: str
) -> None:
    body = b'{"event":"meeting.ended"}'
    with pytest.raises(WebhookRejected) as caught:
        verify(SECRET, headers(sent_at, sign(SECRET, sent_at, body)), body, now=NOW)
    assert caught.value.reason == reason
    assert (DEFAULT_TOLERANCE_S, MAX_FUTURE_S) == (7200, 300)
