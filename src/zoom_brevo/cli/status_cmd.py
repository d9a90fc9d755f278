"""``zoom-brevo status``: queue depths, dead letters, import rejections, last sync, limits.

With ``connectors.zoom.oauth`` configured it also shows the user-level Zoom connection
(connected, not connected, or re-authorize at ``<server>/oauth/authorize``).

An operator tool: dead-letter errors and refused addresses are shown as stored; nothing
from the configuration's secrets is read or printed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.brevo.families import Family, windows
from zoom_brevo.cli.context import state_of, stdout
from zoom_brevo.config import Settings
from zoom_brevo.delivery.imports import pending_imports
from zoom_brevo.errors import ConfigError, StoreError
from zoom_brevo.store import activity, deadletters, deauthorizations, facts, inbox, jobs, outbox
from zoom_brevo.store.engine import reading
from zoom_brevo.wiring import open_store
from zoom_brevo.zoom.categories import zoom_limits

RECENT = 10
BREVO_FAMILIES: tuple[Family, ...] = ("contacts", "events", "smtp_email", "smtp", "other")


def status(
    ctx: typer.Context,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print only a JSON document on standard output.")
    ] = False,
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


def limits(settings: Settings) -> dict[str, Any]:
    """The rate limits in effect for the configured plans (per family / category)."""
    brevo_plan = settings.brevo.plan
    brevo = {}
    for family in BREVO_FAMILIES:
        per_s, per_h = windows(brevo_plan, family)
        brevo[family] = {"per_second": per_s, "per_hour": per_h}
    zoom_plan = settings.connectors.zoom.plan
    zoom = {
        key: {"rate_per_s": round(limit.rate_per_s, 4), "burst": limit.burst}
        for key, limit in zoom_limits(zoom_plan).items()
    }
    return {
        "brevo": {"plan": brevo_plan, "families": brevo},
        "zoom": {"plan": zoom_plan, "buckets": zoom},
    }


def show(document: dict[str, Any]) -> None:
    """Print the document as tables."""
    console = stdout()
    depths = Table(title="Queues", title_justify="left")
    depths.add_column("Queue")
    for state in ("queued", "running", "done", "dead"):
        depths.add_column(state, justify="right")
    for name in ("jobs", "outbox"):
        counts = document[name]
        depths.add_row(name, *(str(counts[s]) for s in ("queued", "running", "done", "dead")))
    console.print(depths)
    console.print("Inbox: " + ", ".join(f"{k} {v}" for k, v in document["inbox"].items()))
    console.print(f"Last sync: {document['last_sync'] or 'never'}")
    console.print(f"Imports being checked: {len(document['pending_imports'])}")
    oauth = document.get("zoom_user_oauth")
    if oauth is not None:
        console.print(f"Zoom user OAuth: {oauth['message']}", markup=False)
    _show_account(document["zoom_account"])
    _show_not_processed(document["webhooks_not_processed"])
    _show_dead(document["dead_letters"])
    _show_rejections(document["import_rejections"])
    _show_limits(document["limits"])


def _show_account(account: dict[str, Any]) -> None:
    if account["deauthorized"]:
        stdout().print(
            f"Zoom account {account['account_id']}: DEAUTHORIZED at "
            f"{account['deauthorized_at']} (app_deauthorized): its personal data was erased "
            "and nothing flows until the app is installed again.",
            markup=False,
        )
    ignored = account["counts"]["ignored"]
    if ignored:
        stdout().print(
            f"Deauthorizations of other accounts ignored: {ignored} "
            f"(last: {account['last_ignored_account_id']})",
            markup=False,
        )


def _show_not_processed(groups: list[dict[str, Any]]) -> None:
    if not groups:
        return
    total = sum(g["count"] for g in groups)
    table = Table(title=f"Webhooks received, not processed: {total}", title_justify="left")
    for column in ("Status", "Event", "Count", "Reason"):
        table.add_column(column, overflow="fold")
    for group in groups:
        table.add_row(group["status"], group["event"], str(group["count"]), group["reason"])
    stdout().print(table)


def _show_dead(dead: dict[str, Any]) -> None:
    table = Table(title=f"Dead letters: {dead['count']}", title_justify="left")
    for column in ("ID", "Kind", "Attempts", "Error"):
        table.add_column(column, overflow="fold")
    for letter in dead["recent"]:
        table.add_row(letter["id"], letter["kind"], str(letter["attempts"]), letter["error"] or "")
    stdout().print(table)
    if dead["count"]:
        stdout().print("Re-queue with: zoom-brevo retry ID ... (or --all)")


def _show_rejections(rejections: dict[str, Any]) -> None:
    table = Table(title=f"Import rejections: {rejections['count']}", title_justify="left")
    for column in ("Process", "E-mail", "Reason"):
        table.add_column(column, overflow="fold")
    for row in rejections["recent"]:
        table.add_row(str(row["process_id"]), row["email"], row["reason"])
    stdout().print(table)


def _show_limits(settings_limits: dict[str, Any]) -> None:
    brevo = settings_limits["brevo"]
    table = Table(title=f"Brevo limits (plan {brevo['plan']})", title_justify="left")
    for column in ("Family", "Per second", "Per hour"):
        table.add_column(column)
    for family, window in brevo["families"].items():
        table.add_row(family, str(window["per_second"] or "-"), str(window["per_hour"] or "-"))
    stdout().print(table)
    zoom = settings_limits["zoom"]
    stdout().print(f"Zoom plan {zoom['plan']}: " + ", ".join(sorted(zoom["buckets"])))
