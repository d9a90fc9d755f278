"""Running an emulated contact import: the work Brevo does after answering 202."""

from __future__ import annotations

import csv
import io
from typing import Any

from zoom_brevo.sandbox.brevo.state import EMAIL_RE, TYPE_CHECKS, BrevoState, Process, iso


def rows_from_file_body(text: str) -> list[dict[str, Any]]:
    """``fileBody`` CSV (semicolon-separated, header = attribute names) as jsonBody rows."""
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    rows: list[dict[str, Any]] = []
    for record in reader:
        cells = {str(k).strip().upper(): v for k, v in record.items() if k is not None}
        email = cells.pop("EMAIL", None)
        rows.append({"email": email, "attributes": {k: v for k, v in cells.items() if v}})
    return rows


def run_import(state: BrevoState, process: Process, now_s: float) -> None:
    """Apply the rows of ``process``; bad rows go to its reports, unknown attributes vanish."""
    checks = {
        name: TYPE_CHECKS.get(attr.type, _never)
        for name, attr in state.attributes.items()
        if attr.type is not None
    }
    invalid: list[dict[str, str]] = []
    duplicates: list[dict[str, str]] = []
    seen: set[str] = set()
    stamp = iso(now_s)
    for number, row in enumerate(process.rows, start=1):
        email = row.get("email") if isinstance(row, dict) else None
        if not isinstance(email, str) or not EMAIL_RE.match(email.strip()):
            invalid.append({"email": str(email or ""), "row": str(number)})
            continue
        email = email.strip().lower()
        if email in seen:
            duplicates.append({"email": email, "row": str(number)})
            continue
        seen.add(email)
        attributes = _clean(row.get("attributes"), checks, erase=process.empty_attributes)
        _upsert(state, process, email, attributes, now_s, stamp=stamp)
    process.rows = []
    process.reports = {
        kind: rows
        for kind, rows in (("invalid_emails", invalid), ("duplicate_email_id", duplicates))
        if rows
    }
    process.status = "completed"
    process.completed_at = iso(now_s)


def _never(_value: Any) -> bool:
    return False


def _clean(raw: Any, checks: dict[str, Any], *, erase: bool) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    kept: dict[str, Any] = {}
    for name, value in raw.items():
        check = checks.get(name)
        if check is None:
            continue
        if value is None or value == "":
            if erase:
                kept[name] = None
        elif check(value):
            kept[name] = value
    return kept


def _upsert(
    state: BrevoState,
    process: Process,
    email: str,
    attributes: dict[str, Any],
    now_s: float,
    *,
    stamp: str,
) -> None:
    contact = state.contact(email)
    if contact is None:
        contact = state.create_contact(email, attributes, now_s, None, stamp)
    elif process.update_existing:
        state.update_contact(contact, attributes, now_s, stamp)
    for list_id in process.list_ids:
        if list_id in state.lists:
            state.link(contact, list_id)
