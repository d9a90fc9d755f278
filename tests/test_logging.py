"""Log redaction: no secret, token, API key or clear-text e-mail address survives."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from zoom_brevo.logging import (
    MASK,
    configure_logging,
    is_sensitive_key,
    log_style,
    mask_email,
    redact,
    redact_value,
    scrub,
)

# Recognisable in any field by their shape.
SHAPED_SECRETS = [
    "xkeysib-0123456789abcdef0123456789abcdef-AbCdEfGh",
    "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl",
    "alice.smith+zoom@example.com",
]
PLAIN_SECRET = "zoom-client-secret-value"  # only recognisable by its key


@pytest.fixture(autouse=True)
def _reset_logging() -> object:
    yield None
    structlog.reset_defaults()
    logging.getLogger().handlers = []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("contact alice.smith+zoom@example.com added", "alice.smith+zoom@example.com"),
        ("GET /v3/contacts/bob%40example.org", "bob%40example.org"),
        ("key xkeysib-0123456789abcdef-AbCd rejected", "0123456789abcdef-AbCd"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("Authorization: Basic Y2lkOmNzZWNyZXQ=", "Y2lkOmNzZWNyZXQ="),
        ("token eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhYmMifQ.c2ln", "eyJzdWIiOiJhYmMifQ"),
        ("/oauth/token?grant_type=x&client_secret=s3cr3t&x=1", "s3cr3t"),
        ("callback?code=AUTHCODE123&state=1", "AUTHCODE123"),
        ("?access_token=tok123", "tok123"),
    ],
)
def test_scrub_masks_secrets_in_free_text(text: str, secret: str) -> None:
    assert secret not in scrub(text)


def test_scrub_keeps_ordinary_text() -> None:
    text = "meeting 85746065432 collected: 300 participants in 2 pages"
    assert scrub(text) == text


def test_email_digest_is_stable_and_case_insensitive() -> None:
    assert mask_email("Alice@Example.com") == mask_email("alice@example.com")
    assert mask_email("alice@example.com") != mask_email("bob@example.com")
    assert "@" not in mask_email("alice@example.com")


@pytest.mark.parametrize(
    "key",
    ["client_secret", "api_key", "apiKey", "access_token", "refresh_token", "password",
     "Authorization", "secret_token", "encryption_key", "x-zm-signature", "admin_token"],
)  # fmt: skip
def test_secret_looking_keys_are_sensitive(key: str) -> None:
    assert is_sensitive_key(key)


@pytest.mark.parametrize("key", ["event", "meeting_id", "email", "status", "key", "count"])
def test_ordinary_keys_are_not_sensitive(key: str) -> None:
    assert not is_sensitive_key(key)


def test_processor_masks_nested_secrets_and_emails() -> None:
    event = {
        "event": "brevo_request_failed for carol@example.net",
        "client_secret": "csecret",
        "headers": {"api-key": "xkeysib-abc", "content-type": "application/json"},
        "contacts": [{"email": "dave@example.com", "attributes": {"FIRSTNAME": "Dave"}}],
        "secret": SecretStr("hidden"),
        "token_ttl_s": 3600,
        "raw": b"email=erin@example.com",
    }
    result = redact(None, "info", event)
    rendered = json.dumps(result)
    for secret in ("carol@example.net", "csecret", "xkeysib-abc", "dave@example.com", "hidden",
                   "erin@example.com"):  # fmt: skip
        assert secret not in rendered
    assert result["headers"]["content-type"] == "application/json"
    assert result["token_ttl_s"] == 3600
    assert result["client_secret"] == MASK


def test_processor_does_not_change_its_input() -> None:
    event = {"event": "x", "api_key": "k"}
    redact(None, "info", event)
    assert event == {"event": "x", "api_key": "k"}


_key = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10)
_leaf = st.one_of(st.integers(), st.text(max_size=20), st.none(), st.sampled_from(SHAPED_SECRETS))
_tree = st.recursive(
    _leaf,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_key, children, max_size=3),
    max_leaves=10,
)
_secret_key = st.sampled_from(["client_secret", "api_key", "access_token", "password", "apiKey"])


@given(st.dictionaries(_key, _tree, max_size=4), _secret_key, st.sampled_from(SHAPED_SECRETS))
def test_no_secret_survives_anywhere_in_an_event(
    fields: dict[str, object], secret_key: str, shaped: str
) -> None:
    fields[secret_key] = PLAIN_SECRET
    fields["event"] = f"request failed: {shaped}"
    rendered = json.dumps(redact_value(fields))
    assert PLAIN_SECRET not in rendered
    for secret in SHAPED_SECRETS:
        assert secret not in rendered


def test_configured_json_logs_are_redacted() -> None:
    out = io.StringIO()
    level, json_output = log_style(debug=False, log_level="verbose")
    configure_logging(level, json_output=json_output, stream=out)
    structlog.get_logger().debug(
        "contact_upserted", email="frank@example.com", api_key="xkeysib-zzz", list_id=15
    )
    line = json.loads(out.getvalue())
    assert line["event"] == "contact_upserted"
    assert line["list_id"] == 15
    assert line["level"] == "debug"
    assert "frank@example.com" not in out.getvalue()
    assert "xkeysib-zzz" not in out.getvalue()


def test_stdlib_logs_are_redacted_too() -> None:
    out = io.StringIO()
    configure_logging(logging.INFO, stream=out)
    logging.getLogger("zoom_brevo.test").warning("GET /v3/contacts/%s", "gina@example.com")
    assert "gina@example.com" not in out.getvalue()
    assert "GET /v3/contacts/<email:" in out.getvalue()


def test_level_filters_console_logs() -> None:
    out = io.StringIO()
    configure_logging(logging.WARNING, stream=out)
    structlog.get_logger().info("not_shown")
    structlog.get_logger().warning("shown")
    assert "not_shown" not in out.getvalue()
    assert "shown" in out.getvalue()


@pytest.mark.parametrize(
    ("debug", "log_level", "expected"),
    [
        (False, "info", (logging.INFO, False)),
        (False, "warning", (logging.WARNING, False)),
        (False, "error", (logging.ERROR, False)),
        (False, "debug", (logging.DEBUG, False)),
        (False, "verbose", (logging.DEBUG, True)),
        (True, "info", (logging.DEBUG, True)),
    ],
)
def test_log_style(debug: bool, log_level: str, expected: tuple[int, bool]) -> None:
    assert log_style(debug=debug, log_level=log_level) == expected


def test_default_stream_follows_sys_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(logging.INFO)
    structlog.get_logger().warning("first_capture")
    assert "first_capture" in capsys.readouterr().err
    structlog.get_logger().warning("second_capture")
    assert "second_capture" in capsys.readouterr().err


def test_a_quoted_address_is_masked_inside_its_quotes() -> None:
    masked = mask_email("ada@example.com")

    assert scrub("nobody 'ada@example.com' here") == f"nobody '{masked}' here"
    assert scrub("o'brien@example.com") == mask_email("o'brien@example.com")
