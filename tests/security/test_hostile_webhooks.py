"""POST /webhooks/zoom against hostile clients, over real loopback HTTP.

Properties, for any input: no 5xx and no traceback; a 200 only for a valid signature; the
inbox holds only bodies that were sent with a valid signature, each once. Also: deep
JSON, bodies at and over the size limit, slow bodies and the server's memory under 200
oversize bodies. The number of generated inputs is printed (``-s``) and recorded in
docs/reliability.md ("Hostile input").
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SERIAL
from zoom_brevo.sandbox.serving import free_port
from zoom_brevo.server.app import WEBHOOK_PATH
from zoom_brevo.server.intake import MAX_NESTING
from zoom_brevo.server.webhooks import MAX_BODY_BYTES
from zoom_brevo.zoom.webhooks import sign

from .conftest import BODY_TIMEOUT_S, SECRET, Target, raw_exchange, request_head

pytestmark = SERIAL  # cut-offs are timed in wall-clock seconds, memory growth measured

MIB = 1024 * 1024
ERROR_STATUSES = {400, 401, 408, 413, 415}
PROTOCOL_ERROR = "Invalid HTTP request received."
TRIED: Counter[str] = Counter()  # inputs per property, printed at the end of each test
HYPOTHESIS = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def event(payload: Any, name: str = "meeting.started") -> dict[str, Any]:
    return {"event": name, "event_ts": 1_700_000_000_000, "payload": payload}


def nested(depth: int, opener: str = "[", uuid: str = "u") -> bytes:
    closer = {"[": "]", "{": "}"}[opener]
    inner = (
        '{"a":' * depth + "1" + "}" * depth if opener == "{" else opener * depth + closer * depth
    )
    shell = '{"event":"meeting.started","payload":{"object":{"uuid":"%s"},"deep":%s}}'
    return (shell % (uuid, inner)).encode()


def check_answer(response: httpx.Response) -> None:
    """No 5xx, no traceback, and a JSON error body with a reason for every refusal."""
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    if response.status_code == 400 and response.text == PROTOCOL_ERROR:
        return  # uvicorn's own refusal, e.g. headers over h11's 16 KiB when read in pieces
    if response.status_code != 200:
        assert response.status_code in ERROR_STATUSES, response.status_code
        assert response.json()["error"]


def check_store(target: Target) -> None:
    """Every stored body was sent with a valid signature, and none is stored twice."""
    bodies = target.stored_bodies()
    assert set(bodies) <= target.validly_signed
    assert len(bodies) == len(set(bodies))


# -- generated requests ---------------------------------------------------------------

# Header values as a client library can send them (h11 refuses edge whitespace).
ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80).map(
    str.strip
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
    | st.sampled_from(["ann@example.com", "Bearer abc", "xkeysib-0123"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip
zoom_events = st.builds(
    event,
    st.fixed_dictionaries(
        {"object": st.fixed_dictionaries({"uuid": st.text(min_size=1, max_size=30)})},
        optional={"account_id": ascii_text, "extra": json_values},
    ),
    st.sampled_from(["meeting.started", "meeting.ended", "webinar.started", "app.custom_event"]),
)
bodies = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=500).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    zoom_events.map(lambda e: json.dumps(e, separators=(",", ":")).encode()),
    st.integers(1, 3000).map(nested),
    st.just(json.dumps(event({"plainToken": "abc"}, "endpoint.url_validation")).encode()),
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain",
     "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", None,
     "application/jsonp", "application/json" + "; x=y" * 2000],
)  # fmt: skip
timestamps = st.sampled_from(["now", "stale", "future", "garbage", "missing", "huge", "signed"])
signatures = st.sampled_from(
    ["valid", "other_body", "garbage", "missing", "valid_then_garbage", "garbage_then_valid",
     "oversized", "empty", "uppercase"],
)  # fmt: skip


def timestamp_value(kind: str, garbage: str) -> str | None:
    now = int(time.time())
    return {
        "now": str(now),
        "stale": str(now - 3 * 3600),
        "future": str(now + 3600),
        "garbage": garbage,
        "missing": None,
        "huge": "9" * 5000,
        "signed": f"+{now}",
    }[kind]


def build_headers(
    body: bytes, content_type: str | None, ts_kind: str, sig_kind: str, garbage: str
) -> tuple[list[tuple[str, str]], bool]:
    """Request headers, and whether they carry a valid signature for ``body`` in the window."""
    headers = [("content-type", content_type)] if content_type is not None else []
    ts = timestamp_value(ts_kind, garbage)
    if ts is not None:
        headers.append(("x-zm-request-timestamp", ts))
    good = sign(SECRET, ts or "", body)
    values = {
        "valid": [good],
        "other_body": [sign(SECRET, ts or "", body + b" ")],
        "garbage": [garbage],
        "missing": [],
        "valid_then_garbage": [good, garbage],
        "garbage_then_valid": [garbage or "v0=00", good],
        "oversized": ["v0=" + "a" * 64 * 1024],
        "empty": [""],
        "uppercase": [good.upper()],
    }[sig_kind]
    headers += [("x-zm-signature", value) for value in values]
    valid = sig_kind in {"valid", "valid_then_garbage"} and ts_kind in {"now", "signed"}
    return headers, valid


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    """Print the inputs tried per property (``pytest -s``), for docs/reliability.md."""
    yield
    print(f"\nhostile webhooks: inputs tried {dict(TRIED)}")  # noqa: T201 (the record)


@pytest.fixture(scope="module")
def http(target: Target) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=target.url, timeout=10) as client:
        yield client


@HYPOTHESIS
@given(
    body=bodies,
    content_type=content_types,
    ts_kind=timestamps,
    sig_kind=signatures,
    garbage=ascii_text,
)
def test_no_request_gets_a_5xx_or_is_stored_without_a_valid_signature(  # noqa: PLR0917 (drawn)
    target: Target, http: httpx.Client, body: bytes, content_type: str | None, ts_kind: str,
    sig_kind: str, garbage: str,
) -> None:  # fmt: skip
    TRIED["any request"] += 1
    headers, valid = build_headers(body, content_type, ts_kind, sig_kind, garbage)
    if valid:
        target.validly_signed.add(body)

    response = http.post(WEBHOOK_PATH, content=body, headers=headers)

    check_answer(response)
    if response.status_code == 200:
        assert valid, (ts_kind, sig_kind)
        assert content_type is not None and content_type.lower().startswith("application/json")
    check_store(target)


@settings(HYPOTHESIS, max_examples=100)
@given(drawn=zoom_events, replays=st.lists(st.booleans(), min_size=1, max_size=3))
def test_a_replayed_delivery_is_acknowledged_and_stored_once(
    target: Target, http: httpx.Client, drawn: dict[str, Any], replays: list[bool]
) -> None:
    TRIED["replays"] += 1
    drawn["payload"]["object"]["uuid"] += f"#replay{TRIED['replays']}"  # a new event each time
    sent = json.dumps(drawn).encode()
    first = target.signed_headers(sent)
    answers = [http.post(WEBHOOK_PATH, content=sent, headers=first).json()]
    for same_bytes_and_headers in replays:  # byte-for-byte, or re-signed as a Zoom retry
        headers = first if same_bytes_and_headers else target.signed_headers(sent)
        answers.append(http.post(WEBHOOK_PATH, content=sent, headers=headers).json())

    assert [a["status"] for a in answers] == ["stored"] + ["duplicate"] * len(replays)
    assert target.stored_bodies().count(sent) == 1
    check_store(target)


@pytest.mark.parametrize("opener", ["[", "{"])
@pytest.mark.parametrize("depth", [MAX_NESTING, 990, 1000, 100_000])
def test_deep_json_is_401_unsigned_and_400_signed_never_a_crash(
    target: Target, http: httpx.Client, depth: int, opener: str
) -> None:
    body = nested(depth, opener)
    unsigned = http.post(WEBHOOK_PATH, content=body, headers={"content-type": "application/json"})
    signed = http.post(WEBHOOK_PATH, content=body, headers=target.signed_headers(body))

    assert unsigned.status_code == 401
    assert (signed.status_code, signed.json()["error"]) == (400, "nested_too_deeply")
    assert body not in target.stored_bodies()


def test_an_event_nested_less_than_the_cap_is_stored(target: Target, http: httpx.Client) -> None:
    body = nested(MAX_NESTING - 5, uuid="under-the-cap")
    response = http.post(WEBHOOK_PATH, content=body, headers=target.signed_headers(body))
    assert response.json() == {"status": "stored"}


def padded_deep(size: int) -> bytes:
    """A body of ``size`` bytes that is one deeply nested array inside an event."""
    shell = b'{"event":"meeting.started","payload":}'
    depth = (size - len(shell)) // 2
    return shell[:-1] + b"[" * depth + b"]" * depth + b" " * ((size - len(shell)) % 2) + b"}"


@pytest.mark.parametrize("size", [MAX_BODY_BYTES - 1, MAX_BODY_BYTES])
def test_a_signed_deep_body_at_the_size_limit_is_400(
    target: Target, http: httpx.Client, size: int
) -> None:
    body = padded_deep(size)
    assert len(body) == size
    response = http.post(WEBHOOK_PATH, content=body, headers=target.signed_headers(body))
    assert (response.status_code, response.json()["error"]) == (400, "nested_too_deeply")


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 2 * MIB])
def test_a_declared_oversize_body_is_refused_before_it_is_sent(target: Target, size: int) -> None:
    head = request_head(
        {"content-type": "application/json", "content-length": str(size)}
        | target.signed_headers(b"unsent")
    )
    answer, seconds = raw_exchange(target.address, head)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in answer.lower()
    assert seconds < 2


def test_a_body_sent_byte_by_byte_is_cut_off_with_408(target: Target) -> None:
    body = json.dumps(event({"object": {"uuid": "slow"}})).encode()
    head = request_head(target.signed_headers(body) | {"content-length": str(len(body))})
    answer, seconds = raw_exchange(target.address, head, trickle=body, gap_s=0.05)

    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b'"body_timeout"' in answer
    assert b"connection: close" in answer.lower()
    assert BODY_TIMEOUT_S <= seconds < BODY_TIMEOUT_S + 2
    assert body not in target.stored_bodies()


def test_headers_then_silence_is_cut_off_with_408(target: Target) -> None:
    head = request_head({"content-type": "application/json", "content-length": "100"})
    answer, seconds = raw_exchange(target.address, head)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert seconds < BODY_TIMEOUT_S + 2


def test_a_refusal_before_the_body_closes_a_slow_senders_connection(target: Target) -> None:
    head = request_head({"content-type": "text/plain", "content-length": "1000"})
    answer, seconds = raw_exchange(target.address, head, trickle=b"x" * 200, gap_s=0.02)
    assert answer.startswith(b"HTTP/1.1 415 ")
    assert seconds < 2  # closed, not held open by the trickle (200 bytes would take 4 s)


# -- memory under oversize bodies (the server in its own process) ----------------------

SERVER = """
import sys, uvicorn
from zoom_brevo.server.app import create_app
from zoom_brevo.server.webhooks import WebhookOptions
from zoom_brevo.store.engine import create_engine, migrate
engine = create_engine(f"sqlite:///{sys.argv[1]}")
migrate(engine)
uvicorn.run(create_app(WebhookOptions(secret_token="s"), engine), host="127.0.0.1",
            port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path / "s.db"), str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "server did not start"
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(10)


def oversize_bodies(count: int) -> Iterator[tuple[bytes, bool]]:
    """Bodies just over the limit: half declared (content-length), half streamed (chunked)."""
    body = b"[" + b"0," * (MAX_BODY_BYTES // 2) + b"0]"
    for number in range(count):
        yield body, number % 2 == 0


@pytest.mark.slow
def test_server_memory_stays_bounded_under_200_oversize_bodies(
    server_process: tuple[str, int],
) -> None:
    url, pid = server_process
    statuses: Counter[int | str] = Counter()
    with httpx.Client(base_url=url, timeout=10) as client:
        client.post(WEBHOOK_PATH, content=b"{}", headers={"content-type": "application/json"})
        before = rss_kib(pid, "VmHWM")
        for body, declared in oversize_bodies(200):
            content = (
                body
                if declared
                else iter([body[i : i + 65536] for i in range(0, len(body), 65536)])
            )
            try:
                response = client.post(
                    WEBHOOK_PATH, content=content, headers={"content-type": "application/json"}
                )
                statuses[response.status_code] += 1
            except httpx.TransportError:  # closed while the rest of the body was on its way
                statuses["closed"] += 1
    grown_mib = (rss_kib(pid, "VmHWM") - before) / 1024
    TRIED["oversize bodies"] += 200
    print(f"hostile webhooks: peak RSS +{grown_mib:.1f} MiB, {dict(statuses)}")  # noqa: T201

    assert set(statuses) <= {413, "closed"}
    assert statuses[413] >= 100
    assert grown_mib < 48
