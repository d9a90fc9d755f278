"""``serve`` and ``sandbox`` check their port as uvicorn will bind it."""

from __future__ import annotations

import socket

import pytest

from zoom_brevo.cli.sandbox_cmd import ensure_free
from zoom_brevo.errors import ConfigError

HOST = "127.0.0.1"


def test_a_port_whose_last_server_just_stopped_is_free_despite_time_wait() -> None:
    with socket.create_server((HOST, 0)) as listener:
        port = listener.getsockname()[1]
        client = socket.create_connection((HOST, port))
        accepted, _ = listener.accept()
        accepted.close()  # the server closes first: its side of the connection waits (TIME_WAIT)
        client.close()
    ensure_free(HOST, port)  # a restarted (or killed and restarted) server may listen again


def test_a_port_another_server_listens_on_is_refused_with_advice() -> None:
    with socket.create_server((HOST, 0)) as listener:
        port = listener.getsockname()[1]
        with pytest.raises(ConfigError, match="choose another --port"):
            ensure_free(HOST, port)
