"""``zoom-brevo sandbox``: serve the emulated Zoom and Brevo APIs for manual testing."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from zoom_brevo.cli.context import stderr, stdout
from zoom_brevo.errors import ConfigError

DEFAULT_PORT = 8765


def sandbox(
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", min=1, max=65535, help="TCP port to listen on.")
    ] = DEFAULT_PORT,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Interface to listen on.")
    ] = "127.0.0.1",
) -> None:
    """Serve emulated Zoom and Brevo APIs for manual testing.

    Runs until Ctrl-C, seeded with the demo scenario. Prints a configuration pointing at it
    on standard output: `zoom-brevo sandbox > sandbox.yaml`, then in another terminal
    `zoom-brevo --config sandbox.yaml check`.
    """
    import uvicorn  # noqa: PLC0415 (keeps CLI start-up fast)

    from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config  # noqa: PLC0415 (keeps CLI start-up fast)

    ensure_free(host, port)
    box = build_sandbox()
    base_url = f"http://{host}:{port}"
    stderr().print(
        f"Sandbox on {base_url}: Zoom at {base_url}/zoom/v2, Brevo at {base_url}/brevo/v3."
        " Configuration to use (Ctrl-C stops):"
    )
    stdout().print(sandbox_config(base_url, box.list_ids), markup=False)
    uvicorn.run(box.app, host=host, port=port, log_level="warning", lifespan="off")


def ensure_free(host: str, port: int) -> None:
    """Raise :class:`ConfigError` unless ``host:port`` can be listened on.

    Asked as uvicorn will bind, with ``SO_REUSEADDR``: connections of a previous server
    still in TIME_WAIT (it was restarted, or killed) do not keep the port busy.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port"
        ) from None
