"""Brevo errors a user reads say what to do next (Zoom's: tests/zoom/test_responses.py)."""

from __future__ import annotations

import re

import pytest

from zoom_brevo.brevo.responses import error_for

NEXT_STEP = re.compile(
    r"\b(check|run|add|re-authori[sz]e|authori[sz]e|buy|fix|try again|retry)\b", re.IGNORECASE
)

BREVO_CASES = [
    (400, b'{"code": "invalid_parameter", "message": "Invalid email address"}'),
    (401, b'{"code": "unauthorized", "message": "Key not found"}'),
    (402, b'{"code": "not_enough_credits", "message": "Not enough credits"}'),
    (403, b'{"code": "permission_denied", "message": "no"}'),
    (404, b'{"code": "document_not_found", "message": "List not found"}'),
    (500, b"<html>oops</html>"),
]


@pytest.mark.parametrize(("status", "body"), BREVO_CASES)
def test_every_brevo_error_names_a_next_step(status: int, body: bytes) -> None:
    error = error_for(status, body, {}, operation="POST /contacts")

    assert error is not None
    assert NEXT_STEP.search(str(error)), str(error)


def test_a_refused_brevo_payload_points_at_check_and_retry() -> None:
    error = error_for(400, b'{"code": "invalid_parameter"}', {}, operation="POST /contacts")

    assert "zoom-brevo check" in str(error)
    assert "zoom-brevo retry" in str(error)


DOUBLE_PUNCTUATION = re.compile(r"\.[.;:,)]|[;:,]\.|\)\.\)")


@pytest.mark.parametrize(("status", "body"), BREVO_CASES)
def test_no_brevo_error_doubles_its_punctuation(status: int, body: bytes) -> None:
    said = body.replace(b'"}', b'."}')  # Brevo's messages may end with a period of their own
    message = str(error_for(status, said, {}, operation="POST /contacts"))

    assert not DOUBLE_PUNCTUATION.search(message), message
