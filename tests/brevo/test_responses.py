"""Every Brevo status and error body maps to one error class with an actionable message."""

from __future__ import annotations

import json

import pytest

from zoom_brevo.brevo.responses import error_for, is_already_in_list, parse_error_body
from zoom_brevo.errors import (
    ApiError,
    AuthError,
    FatalApiError,
    NotFound,
    PayloadRejected,
    RateLimited,
    RetriableApiError,
)

IP_MESSAGE = (
    "We have detected you are using an unrecognised IP address 2001:db8::1. If you performed "
    "this action make sure to add the new IP address in this link: "
    "https://app.brevo.com/security/authorised_ips"
)


def body(code: str, message: str) -> bytes:
    return json.dumps({"code": code, "message": message}).encode()


CASES: list[tuple[int, bytes, dict[str, str], type[ApiError], str]] = [
    (401, body("unauthorized", "Key not found"), {}, AuthError, "brevo.api_key"),
    (401, body("unauthorized", "authentication not found in headers"), {}, AuthError, "API key"),
    (401, body("unauthorized", IP_MESSAGE), {}, AuthError, "Authorized IPs"),
    (401, body("unauthorized", "unauthorized: not verified"), {}, AuthError, "Authorized IPs"),
    (401, body("unauthorized", "unauthorized: IP not authorized"), {}, AuthError, "authorised_ips"),
    (400, body("invalid_parameter", "Invalid email address"), {}, PayloadRejected, "Invalid email"),
    (400, body("duplicate_parameter", "Contact already exist"), {}, PayloadRejected, "duplicate"),
    (402, body("not_enough_credits", "Not enough credits"), {}, FatalApiError, "credits"),
    (403, body("permission_denied", "no"), {}, AuthError, "permission denied"),
    (404, body("document_not_found", "Contact does not exist"), {}, NotFound, "does not exist"),
    (429, b"{}", {"x-sib-ratelimit-reset": "17"}, RateLimited, "17"),
    (500, b"<html>oops</html>", {}, RetriableApiError, "HTTP 500"),
    (503, b"", {}, RetriableApiError, "HTTP 503"),
]


@pytest.mark.parametrize(("status", "raw", "headers", "kind", "hint"), CASES)
def test_status_and_body_map_to_one_error_class(
    status: int, raw: bytes, headers: dict[str, str], kind: type[ApiError], hint: str
) -> None:
    error = error_for(status, raw, headers, operation="POST /contacts")
    assert type(error) is kind
    assert hint in str(error)
    assert error.status == status
    assert error.service == "brevo"


def test_ip_block_and_wrong_key_have_different_advice() -> None:
    wrong_key = error_for(401, body("unauthorized", "Key not found"), {}, operation="GET /account")
    ip_block = error_for(401, body("unauthorized", IP_MESSAGE), {}, operation="GET /account")
    assert "Authorized IPs" not in str(wrong_key)
    assert "brevo.api_key" not in str(ip_block)
    assert "https://app.brevo.com/security/authorised_ips" in str(ip_block)


def test_rate_limit_wait_comes_from_the_relative_reset_header() -> None:
    error = error_for(429, b"", {"x-sib-ratelimit-reset": "3"}, operation="POST /events")
    assert isinstance(error, RateLimited)
    assert error.retry_after_s == 3.0


def test_rate_limit_without_header_leaves_the_wait_to_the_backoff() -> None:
    error = error_for(429, b"", {}, operation="POST /events")
    assert isinstance(error, RateLimited)
    assert error.retry_after_s is None


def test_success_is_no_error() -> None:
    assert error_for(204, b"", {}, operation="POST /events") is None


def test_already_in_list_is_recognised_as_the_soft_case() -> None:
    parsed = parse_error_body(
        body("invalid_parameter", "Contact already in list and/or does not exist")
    )
    assert is_already_in_list(400, parsed)
    assert not is_already_in_list(400, parse_error_body(body("invalid_parameter", "Invalid email")))
