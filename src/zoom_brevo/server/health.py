"""``/healthz`` (the process answers) and ``/readyz`` (the database is usable)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from zoom_brevo.errors import StoreError
from zoom_brevo.store.engine import current_revision, head_revision, reading


async def healthz(_request: Request) -> JSONResponse:
    """200 while the process serves requests."""
    return JSONResponse({"status": "ok"})


def readiness(engine: Engine, head: str | None) -> str | None:
    """Why the store is not ready (``None`` when it is): unreachable, or not migrated.

    Blocking; call it from a thread.
    """
    try:
        with reading(engine) as conn:
            current = current_revision(conn)
    except (sa.exc.SQLAlchemyError, StoreError):
        return "database unreachable"
    if current != head:
        return f"database schema at migration {current}, this version needs {head}"
    return None


def readyz(engine: Engine) -> Callable[[Request], Awaitable[JSONResponse]]:
    """``GET /readyz``: 200 when the database answers at the current migration, else 503."""
    head = head_revision()

    async def endpoint(_request: Request) -> JSONResponse:
        reason = await run_in_threadpool(readiness, engine, head)
        if reason is None:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not_ready", "reason": reason}, status_code=503)

    return endpoint
