"""``zoom-brevo status`` for people: the ``--json`` document rendered as text and tables.

Empty sections say "none" in one line instead of drawing a table with bare headers;
numbers carry thousands separators; times read as ``2026-12-05 21:42 UTC (12 minutes ago)``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

MINUTE_S, HOUR_S, DAY_S = 60, 3_600, 86_400


def show(document: dict[str, Any], console: Console, *, now: datetime) -> None:
    """Print the ``status`` document on ``console`` (times relative to ``now``)."""
    console.print(queues_table(document))
    console.print(f"Inbox: {inbox_line(document['inbox'])}", markup=False)
    console.print(f"Last sync: {when(document['last_sync'], now)}", markup=False)
    console.print(f"Imports being checked: {len(document['pending_imports'])}")
    doubt = in_doubt_line(document["in_doubt"])
    if doubt:
        console.print(doubt, markup=False)
    oauth = document.get("zoom_user_oauth")
    if oauth is not None:
        console.print(f"Zoom user OAuth: {oauth['message']}", markup=False)
    for line in account_lines(document["zoom_account"], now):
        console.print(line, markup=False)
    _print_section(console, not_processed_table(document["webhooks_not_processed"]))
    _print_section(console, dead_letters_table(document["dead_letters"]))
    if document["dead_letters"]["count"]:
        console.print("Re-queue with: zoom-brevo retry ID ... (or --all)")
    _print_section(console, rejections_table(document["import_rejections"]))
    console.print(brevo_limits_table(document["limits"]["brevo"]))
    console.print(zoom_limits_table(document["limits"]["zoom"]))
    shared = document["limits"]["zoom"].get("shared_daily")
    if shared:
        console.print(shared, markup=False)


def _print_section(console: Console, section: Table | str) -> None:
    console.print(section, markup=False) if isinstance(section, str) else console.print(section)


def number(value: float | None) -> str:
    """``36000`` -> ``36,000``; ``None`` -> ``-`` (no such limit)."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def ago(then: datetime, now: datetime) -> str:
    """How long before ``now`` ``then`` was, in the largest whole unit."""
    seconds = int((now - then).total_seconds())
    if seconds < 0:
        return "in the future (check this machine's clock)"
    if seconds < MINUTE_S:
        return "just now"
    for size, unit in ((DAY_S, "day"), (HOUR_S, "hour"), (MINUTE_S, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    raise AssertionError("unreachable")  # pragma: no cover


def when(iso: str | None, now: datetime) -> str:
    """An ISO 8601 time as ``YYYY-MM-DD HH:MM UTC (N minutes ago)``; ``never`` for ``None``."""
    if iso is None:
        return "never"
    then = datetime.fromisoformat(iso).astimezone(UTC)
    return f"{then:%Y-%m-%d %H:%M} UTC ({ago(then, now)})"


def inbox_line(counts: dict[str, int]) -> str:
    """The webhook inbox by status (``processed 12, pending 1``), or ``empty``."""
    shown = [f"{status} {number(count)}" for status, count in sorted(counts.items()) if count]
    return ", ".join(shown) if shown else "empty (no webhook received yet)"


def queues_table(document: dict[str, Any]) -> Table:
    """Jobs and outbox by state."""
    table = Table(title="Queues", title_justify="left")
    table.add_column("Queue")
    states = ("queued", "running", "done", "dead")
    for state in states:
        table.add_column(state, justify="right")
    for name in ("jobs", "outbox"):
        table.add_row(name, *(number(document[name][s]) for s in states))
    return table


def in_doubt_line(counts: dict[str, int]) -> str | None:
    """Events whose send began with no known outcome (``None`` when there are none)."""
    pending, held = counts["pending"], counts["held"]
    if not (pending or held):
        return None
    parts = []
    if pending:
        parts.append(f"{number(pending)} being checked in Brevo's events listing")
    if held:
        parts.append(
            f"{number(held)} held (the listing could not say whether Brevo has them; "
            "`zoom-brevo retry` sends them, see the dead letters marked held)"
        )
    return "Events in doubt: " + "; ".join(parts)


def account_lines(account: dict[str, Any], now: datetime) -> list[str]:
    """The served Zoom account's deauthorization and the ignored ones, if any."""
    lines = []
    if account["deauthorized"]:
        lines.append(
            f"Zoom account {account['account_id']}: DEAUTHORIZED "
            f"{when(account['deauthorized_at'], now)} (app_deauthorized): its personal data "
            "was erased and nothing flows until the app is installed again."
        )
    ignored = account["counts"]["ignored"]
    if ignored:
        lines.append(
            f"Deauthorizations of other accounts ignored: {ignored} "
            f"(last: {account['last_ignored_account_id']})"
        )
    return lines


def not_processed_table(groups: list[dict[str, Any]]) -> Table | str:
    """Webhooks received and not processed, by reason."""
    if not groups:
        return "Webhooks received, not processed: none"
    total = sum(g["count"] for g in groups)
    table = Table(title=f"Webhooks received, not processed: {total}", title_justify="left")
    for column in ("Status", "Event", "Count", "Reason"):
        table.add_column(column, overflow="fold", justify="right" if column == "Count" else "left")
    for group in groups:
        table.add_row(group["status"], group["event"], number(group["count"]), group["reason"])
    return table


def dead_letters_table(dead: dict[str, Any]) -> Table | str:
    """The most recent dead letters."""
    if not dead["count"]:
        return "Dead letters: none"
    table = Table(title=f"Dead letters: {dead['count']}", title_justify="left")
    for column in ("ID", "Kind", "Attempts", "Error"):
        table.add_column(column, overflow="fold")
    for letter in dead["recent"]:
        kind = f"{letter['kind']} (held)" if letter.get("in_doubt") else letter["kind"]
        table.add_row(letter["id"], kind, str(letter["attempts"]), letter["error"] or "")
    return table


def rejections_table(rejections: dict[str, Any]) -> Table | str:
    """The most recent addresses Brevo's imports refused."""
    if not rejections["count"]:
        return "Import rejections: none"
    table = Table(title=f"Import rejections: {rejections['count']}", title_justify="left")
    for column in ("Process", "E-mail", "Reason"):
        table.add_column(column, overflow="fold")
    for row in rejections["recent"]:
        table.add_row(str(row["process_id"]), row["email"], row["reason"])
    return table


def brevo_limits_table(brevo: dict[str, Any]) -> Table:
    """Brevo's calls per second and per hour, by endpoint family."""
    table = Table(title=f"Brevo limits (plan {brevo['plan']})", title_justify="left")
    table.add_column("Family")
    table.add_column("Per second", justify="right")
    table.add_column("Per hour", justify="right")
    for family, window in brevo["families"].items():
        table.add_row(family, number(window["per_second"]), number(window["per_hour"]))
    return table


def zoom_limits_table(zoom: dict[str, Any]) -> Table:
    """Zoom's calls per second (per minute, per day), by rate-limit category."""
    table = Table(title=f"Zoom limits (plan {zoom['plan']})", title_justify="left")
    table.add_column("Category")
    for column in ("Per second", "Per minute", "Per day"):
        table.add_column(column, justify="right")
    for category, limit in zoom["categories"].items():
        table.add_row(
            category,
            number(limit["per_second"]),
            number(limit["per_minute"]),
            number(limit["per_day"]),
        )
    return table
