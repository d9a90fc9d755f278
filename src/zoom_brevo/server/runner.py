"""Process shells: serve the app with uvicorn, or run a worker alone, until SIGTERM/SIGINT.

On SIGTERM uvicorn stops listening, answers the requests in flight (up to
``graceful_timeout_s``) and then runs the app's lifespan shutdown, which stops the
in-process worker. Both shells end normally after a signal, so the process exits 0.

The server runs on uvicorn's fastest stack, the httptools parser and the uvloop event loop
(both dependencies of zoom-brevo): a bare HTTP exchange costs a quarter of the CPU it costs
on h11 and asyncio, a webhook about 40% less (docs/benchmarks.md, "Webhook intake"). Where
either cannot be imported (uvloop has no Windows build), uvicorn falls back to h11 or
asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import uvicorn

from zoom_brevo.errors import ConfigError
from zoom_brevo.server.background import DEFAULT_STOP_TIMEOUT_S, Worker, WorkerTask

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
DEFAULT_GRACEFUL_TIMEOUT_S = 10
# Young collections wait for this many new container objects (Python's default: 700).
GC_YOUNG_THRESHOLD = 10_000


def stack(http: str = "auto", loop: str = "auto") -> tuple[str, str]:
    """The HTTP parser and event loop uvicorn runs for ``http`` and ``loop`` (``auto``
    resolved as uvicorn resolves it: httptools and uvloop when they can be imported)."""
    if http == "auto":
        http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    if loop == "auto":
        loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return http, loop


def run_server(
    app: Any,
    *,
    host: str,
    port: int,
    graceful_timeout_s: int = DEFAULT_GRACEFUL_TIMEOUT_S,
    http: str = "auto",
    loop: str = "auto",
    on_listening: Callable[[], None] | None = None,
) -> list[int]:
    """Serve ``app`` on ``host:port`` until SIGTERM/SIGINT; return the signals received.

    ``http`` and ``loop`` are uvicorn's choices (``auto``: see :func:`stack`).
    ``on_listening`` is called once the socket accepts connections.
    """
    http, loop = stack(http, loop)
    tune_gc()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=http,
        loop=loop,
        lifespan="on",
        log_config=None,  # keep the redacting logging set up by the CLI
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=graceful_timeout_s,
    )
    server = _Server(config, on_listening)
    with _noting_signals() as received:
        try:
            server.run()
        except SystemExit as exc:  # uvicorn exits when it cannot bind or start the app
            raise ConfigError(
                f"the server could not start on {host}:{port} (see the log above)"
            ) from exc
    return received


class _Server(uvicorn.Server):
    """uvicorn's server, calling back once it listens (after the app's start-up)."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_listening = on_listening

    async def startup(self, sockets: list[Any] | None = None) -> None:
        """Start as uvicorn does, then report that the socket is listening."""
        await super().startup(sockets=sockets)
        if self.started and self._on_listening is not None:
            self._on_listening()


def tune_gc() -> None:
    """Set the garbage collector up for serving: call once the app is built.

    Everything alive by then (modules, the app, SQLAlchemy's tables: about 100,000 objects)
    lives as long as the process, so ``gc.freeze`` takes it out of the collector's sight:
    every full collection walked all of it, pausing every request in flight for 50-100 ms
    under load. And the requests in flight alone hold more than 700 new objects, so with
    the default threshold the collector ran dozens of times a second for next to no
    garbage (almost all of it is freed by reference counting). docs/benchmarks.md,
    "Webhook intake", has the figures.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, oldest)


@contextlib.contextmanager
def stop_during_start() -> Iterator[None]:
    """SIGTERM exits 0 at once until the process runs its own stop handling.

    While a process reads its settings and migrates its store it holds nothing: a stop then
    (a rolling restart, a deployment cancelled) only rolls the migration's transaction back.
    Without this, Python's default handler ends it with -15, which supervisors report as a
    failure. ``run_server`` and ``run_worker_process`` replace the handler with their own.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_sig: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _noting_signals() -> Iterator[list[int]]:
    """Record stop signals instead of dying from them.

    uvicorn re-raises the signal that stopped it once it has shut down, so that the
    previous handler runs; with the default handler that would kill the process (exit
    -15) after a clean shutdown. The handler installed here only notes it.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def note(sig: int, _frame: FrameType | None) -> None:
        received.append(sig)

    previous = {sig: signal.signal(sig, note) for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_worker_process(worker: Worker, *, stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> None:
    """Run ``worker`` until SIGTERM/SIGINT (then stop it, bounded) or until it ends.

    At the first signal the worker finishes what it is doing (up to ``stop_timeout_s``); a
    second signal stops it at once, handing back what it holds. The worker's own failure
    is raised, so that the command exits non-zero with it.
    """
    asyncio.run(_until_signal(worker, stop_timeout_s))


async def _until_signal(worker: Worker, stop_timeout_s: float) -> None:
    task = WorkerTask(worker)
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if task.stop.is_set():
            task.hurry()
        task.stop.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal)
    try:
        task.start()
        await task.until_stop_or_exit()
        await task.shutdown(stop_timeout_s)
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
    failure = task.failure()
    if failure is not None:
        raise failure
