"""Coverage-guided fuzzing of the pure webhook path, ``verify`` then ``classify`` (atheris).

    .venv/bin/python fuzz/fuzz_webhook_intake.py -runs=50000 -dict=fuzz/webhook.dict \
        -max_len=4096 WORK_DIR fuzz/corpus/webhook_intake

(libFuzzer adds what it finds to the first directory: give a scratch one.)

Each input is split into a mode, a header value and a body (see ``split``). The properties: only
``WebhookRejected`` escapes; a refused signature is a 401; a request passes ``verify`` only
with the signature made with the secret; a verified body is either classified or refused
with a 400. libFuzzer prints ``Done N runs`` when it stops; a broken property is a crash
(non-zero exit) with the input written to ``crash-*``.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports(include=["zoom_brevo"]):
    from zoom_brevo.errors import WebhookRejected
    from zoom_brevo.server.intake import classify
    from zoom_brevo.zoom.webhooks import sign, verify

SECRET = "fuzz-secret-token"  # noqa: S105 (a made-up key for the fuzzer)
NOW = 1_700_000_000
VALID, FUZZED_SIGNATURE, NO_SIGNATURE, FUZZED_TIMESTAMP = range(4)


def split(data: bytes) -> tuple[int, str, bytes]:
    """(mode, fuzzed header value, body): byte 0 picks the mode; in the fuzzed-header
    modes the header value runs up to the first newline (as HTTP would end it)."""
    mode = data[0] % 4 if data else VALID
    rest = data[1:]
    if mode not in {FUZZED_SIGNATURE, FUZZED_TIMESTAMP}:
        return mode, "", rest
    value, _, body = rest.partition(b"\n")
    return mode, value.decode("latin-1"), body  # as Starlette decodes header bytes


def check_one(data: bytes) -> None:
    """One input: the properties above, as assertions."""
    mode, value, body = split(data)
    timestamp = value if mode == FUZZED_TIMESTAMP else str(NOW)
    good = sign(SECRET, timestamp, body)
    headers = {"x-zm-request-timestamp": timestamp}
    if mode != NO_SIGNATURE:
        headers["x-zm-signature"] = value if mode == FUZZED_SIGNATURE else good
    try:
        verify(SECRET, headers, body, now=NOW, tolerance_s=300, max_future_s=300)
    except WebhookRejected as refused:
        assert refused.status == 401, refused.status
        assert mode != VALID, f"a valid signature was refused: {refused.reason}"
        return
    assert headers.get("x-zm-signature", "").strip() == good, "verified without the signature"
    try:
        classify(body)
    except WebhookRejected as refused:
        assert refused.status == 400, refused.status


def main(argv: list[str]) -> None:
    """Run libFuzzer with ``argv`` (``-runs=N``, ``-max_len=N``, corpus directories)."""
    atheris.Setup(argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
