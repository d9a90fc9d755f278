"""``zoom-brevo sandbox``: serve the emulated Zoom and Brevo APIs for manual testing."""

from __future__ import annotations

import socket
import sys
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

    Runs until Ctrl-C and holds the world of `zoom-brevo demo` (a team meeting and a
    500-registrant webinar) and a new Brevo account: without the connector's attributes and
    lists, which `setup-brevo` creates.
    Lists on standard error the meetings and webinars it holds, with their IDs and UUIDs
    and commands to try; prints a configuration pointing at it on standard output:
    `zoom-brevo sandbox > sandbox.yaml`, then in another terminal
    `zoom-brevo --config sandbox.yaml setup-brevo`.
    """
    import uvicorn  # noqa: PLC0415 (keeps CLI start-up fast)

    from zoom_brevo.demo import demo_scenario  # noqa: PLC0415 (keeps CLI start-up fast)
    from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config  # noqa: PLC0415
    from zoom_brevo.sandbox.listing import start_lines  # noqa: PLC0415

    ensure_free(host, port)
    box = build_sandbox(demo_scenario().scenario)
    base_url = f"http://{host}:{port}"
    stderr().print("\n".join(start_lines(base_url, box.scenario)), markup=False)
    stdout().print(sandbox_config(base_url, box.list_ids), markup=False)
    # Redirected to a file, the configuration must be there while the server runs.
    sys.stdout.flush()
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
