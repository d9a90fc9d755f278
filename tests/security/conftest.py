"""The webhook server on a migrated SQLite store, served over loopback, for hostile clients."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_brevo.sandbox.serving import serving
from zoom_brevo.server.app import WEBHOOK_PATH, create_app
from zoom_brevo.server.webhooks import WebhookOptions
from zoom_brevo.store.engine import create_engine, migrate, reading
from zoom_brevo.zoom.webhooks import sign

SECRET = "hostile-input-webhook-secret"
BODY_TIMEOUT_S = 0.5


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "store.db"
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@dataclass
class Target:
    """A running webhook server, its store, and what was sent to it with a valid signature."""

    url: str
    engine: Engine
    validly_signed: set[bytes] = field(default_factory=set)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("http://").split(":")
        return host, int(port)

    def stored_bodies(self) -> list[bytes]:
        with reading(self.engine) as conn:
            return [bytes(row[0]) for row in conn.execute(sa.text("SELECT raw_body FROM inbox"))]

    def signed_headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        self.validly_signed.add(body)
        return {
            "content-type": "application/json",
            "x-zm-request-timestamp": ts,
            "x-zm-signature": sign(SECRET, ts, body),
        }


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, migrated_store: Path) -> Iterator[Target]:
    """One server per test module (Hypothesis examples share it; the store only grows)."""
    path = tmp_path_factory.mktemp("store") / "store.db"
    shutil.copyfile(migrated_store, path)
    engine = create_engine(f"sqlite:///{path}")
    options = WebhookOptions(secret_token=SECRET, body_timeout_s=BODY_TIMEOUT_S)
    with serving(create_app(options, engine)) as url:
        yield Target(url, engine)
    engine.dispose()


def raw_exchange(
    address: tuple[str, int], head: bytes, *, trickle: bytes = b"", gap_s: float = 0.0,
    timeout_s: float = 5.0,
) -> tuple[bytes, float]:  # fmt: skip
    """Send ``head`` at once, then ``trickle`` byte by byte ``gap_s`` apart; read to EOF.

    Returns everything the server sent and the seconds from the head to the connection's
    close. Write errors (the server closed first) end the trickle.
    """
    with socket.create_connection(address, timeout=timeout_s) as sock:
        sock.sendall(head)
        started = time.monotonic()
        for byte in trickle:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(gap_s)
        received = bytearray()
        while chunk := _recv(sock):
            received += chunk
        return bytes(received), time.monotonic() - started


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except ConnectionResetError:
        return b""


def request_head(headers: dict[str, str], path: str = WEBHOOK_PATH) -> bytes:
    """An HTTP/1.1 POST request line and headers, as bytes."""
    lines = [f"POST {path} HTTP/1.1", "host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
