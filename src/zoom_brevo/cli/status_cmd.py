"""``zoom-brevo status``: queue depths, dead letters, import rejections, last sync, limits.

With ``connectors.zoom.oauth`` configured it also shows the user-level Zoom connection
(connected, not connected, or re-authorize at ``<server>/oauth/authorize``).

An operator tool: dead-letter errors and refused addresses are shown as stored; nothing
from the configuration's secrets is read or printed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import typer
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.cli import status_view
from zoom_brevo.cli.context import JsonOption, state_of, stdout
from zoom_brevo.config import Settings
from zoom_brevo.delivery.imports import pending_imports
from zoom_brevo.errors import ConfigError, StoreError
from zoom_brevo.store import activity, deadletters, deauthorizations, facts, inbox, jobs, outbox
from zoom_brevo.store.engine import reading
from zoom_brevo.usecases.limits import limits
from zoom_brevo.wiring import open_store

RECENT = 10


def status(
    ctx: typer.Context,
    json_output: JsonOption = False,
) -> None:
    """Show queues, dead letters, the last sync and the rate limits.

    Inbox/job/outbox depths, dead letters (re-queue them with `zoom-brevo retry`), import
    rejections, the last sync and the rate limits in effect. Also the user-level Zoom
    connection when connectors.zoom.oauth is configured.
    """
    settings = state_of(ctx).settings()
    engine = open_store(settings)
    try:
        with reading(engine) as conn:
            document = collect(conn, settings)
        document["zoom_user_oauth"] = zoom_user_oauth(settings, engine)
    finally:
        engine.dispose()
    if json_output:
        typer.echo(json.dumps(document, indent=2))
        return
    show(document)


def collect(conn: Connection, settings: Settings) -> dict[str, Any]:
    """Everything ``status`` reports, as a JSON-ready document.

    ``idle`` is true when nothing is left to do (``busy`` says what is, otherwise);
    ``leases`` lists who holds outbox and job leases, and until when; ``in_doubt`` counts
    event commands whose send began with no known outcome (``pending``: reconciled at their
    next claim; ``held``: dead letters waiting for ``retry``, ``delivery.in_doubt: hold``).
    """
    imports = pending_imports(conn)
    busy = activity.busy(conn, now=datetime.now(UTC), pending_imports=len(imports))
    return {
        "idle": not busy,
        "busy": busy,
        "leases": [held.to_json() for held in activity.leases(conn)],
        "inbox": inbox.counts(conn),
        "jobs": jobs.counts(conn),
        "outbox": outbox.counts(conn),
        "in_doubt": outbox.in_doubt(conn),
        "dead_letters": _dead_letters(conn),
        "import_rejections": _rejections(conn),
        "pending_imports": [
            {
                "process_id": item.process_id,
                "contacts": len(item.emails),
                "checks": item.checks,
                "next_check_at": item.next_check_at.isoformat(),
            }
            for item in imports
        ],
        "last_sync": _last_sync(conn),
        "limits": limits(settings),
        "zoom_account": deauthorizations.read(conn).to_json(),
        "webhooks_not_processed": [
            {
                "status": group.status,
                "event": group.event_type,
                "reason": group.reason,
                "count": group.count,
                "last_received_at": group.last_received_at.isoformat(),
            }
            for group in inbox.not_processed(conn)
        ],
    }


def zoom_user_oauth(settings: Settings, engine: Engine) -> dict[str, Any] | None:
    """The user-level Zoom connection (``None`` when ``connectors.zoom.oauth`` is not set).

    ``state`` is ``connected``, ``not_connected``, ``reauthorize`` or ``unknown`` (the stored
    record or its key could not be read); ``message`` says what to do.
    """
    from zoom_brevo.server.oauth_routes import connection_status  # noqa: PLC0415

    try:
        found = connection_status(settings, engine)
    except (ConfigError, StoreError) as exc:
        return {"state": "unknown", "message": f"the stored connection could not be read: {exc}"}
    if found is None:
        return None
    connection, authorize_url = found
    return {
        **connection.to_json(),
        "message": connection.describe(authorize_url),
        "authorize_url": authorize_url,
    }


def _dead_letters(conn: Connection) -> dict[str, Any]:
    recent = deadletters.list_dead(conn, limit=RECENT)
    return {
        "count": deadletters.count(conn),
        "recent": [
            {
                "id": letter.ref,
                "kind": letter.kind,
                "attempts": letter.attempts,
                "error": letter.last_error,
                "at": letter.updated_at.isoformat(),
                "in_doubt": letter.in_doubt,
            }
            for letter in recent
        ],
    }


def _rejections(conn: Connection) -> dict[str, Any]:
    stored = facts.list_rejections(conn)
    return {
        "count": len(stored),
        "recent": [
            {"process_id": r.process_id, "email": r.email, "reason": r.reason}
            for r in reversed(stored[-RECENT:])
        ],
    }


def _last_sync(conn: Connection) -> str | None:
    times = [i.collected_at for i in facts.list_instances(conn) if i.collected_at is not None]
    latest: datetime | None = max(times, default=None)
    return None if latest is None else latest.isoformat()


def show(document: dict[str, Any]) -> None:
    """Print the document for people (``cli.status_view``)."""
    status_view.show(document, stdout(), now=datetime.now(UTC))
