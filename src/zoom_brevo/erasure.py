"""Right to erasure: forget one person, or everything a deauthorized Zoom account gave us.

``forget_person`` removes every row that is about the person and blanks every mention of
the address elsewhere, in every table that holds text:

- people, attendance sessions (also guests whose display name was the address),
  registrations, import rejections: deleted;
- ledger entries (``zoom_attended:<uuid>:<email>`` ...): deleted, keeping only anonymous
  counts per effect name. No salted hash of the address is kept, because a hash anyone
  with the salt can test candidate addresses against is still personal data. So if the
  same address reaches the connector again (a later meeting, or a re-sync of an old one),
  it is a new person: effects recorded before the erasure may be sent again;
- outbox commands for the address (contact upserts, events, e-mails), in any state:
  deleted, so that no queued upsert re-creates a contact the caller deletes in Brevo;
- jobs whose payload is about the address: deleted; other jobs, cursors (pending Brevo
  imports list their e-mails), meeting instances (host e-mail, topic, details) and
  recordings: the address is cut out of their text and JSON;
- webhooks in the inbox that mention the address: kept as tombstones (same ``dedupe_key``,
  so a redelivery of the event is still recognised and dropped), raw body and headers
  emptied, marked ``ignored`` if they were not processed yet.

Matching ignores case and finds the address also URL-encoded (``%40``), but never inside
a longer address (erasing ``bob@x.com`` keeps ``jimbob@x.com``). Every table is scanned:
cost grows with the store, which is fine for a rare administrative act. The scan runs in
a read transaction and only the changes in a write transaction, so webhooks keep landing
meanwhile; work that arrives for the person during the erasure can re-add them (run it
again).

``forget_account`` serves ``app_deauthorized``. A self-hosted connector serves one Zoom
account, and instances from webhooks do not always carry their account id, so it erases
every personal row (not only the rows tagged with ``account_id``): facts, outbox, jobs,
ledger, cursors, Zoom OAuth tokens; inbox rows become tombstones. Rate-limit buckets stay.

Both keep anonymous totals (how many rows of each kind were erased, effects sent per
name) in the cursor ``erasure:totals`` (``TOTALS_CURSOR``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import structlog
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.store import cursors, erasing, inbox, ledger, outbox, tokens
from zoom_brevo.store.engine import reading, transaction

ERASED = "[erased]"
TOTALS_CURSOR = "erasure:totals"
TOMBSTONE_ERROR = "erased: personal data removed"
ZOOM_TOKEN_PREFIX = "zoom:"  # noqa: S105 (a prefix of token rows, not a secret)
BATCH = 500
# Payload fields naming the person a command or job is about (pipeline.commands).
SUBJECT_FIELDS = ("email", "ledger_key")
# Characters that may precede an address in a longer one (the logging scrubber's set).
_LOCAL_CHARS = r"\w.%+'-"
_UNESCAPED = re.compile(r"[a-z0-9.!#$%&'*+=?^_`{|}~-]+")

log = structlog.get_logger(__name__)


# --- addresses ------------------------------------------------------------------------


def normalize_address(text: str) -> tuple[str, ...]:
    """The forms of an address to erase (as typed, normalized, ASCII domain), lower-cased.

    ``ValueError`` when ``text`` is not an e-mail address.
    """
    typed = text.strip().lower()
    try:
        valid = validate_email(typed, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not an e-mail address: {exc}") from None
    forms = (typed, valid.normalized.lower(), (valid.ascii_email or typed).lower())
    return tuple(dict.fromkeys(forms))


@dataclass(frozen=True, slots=True)
class Matcher:
    """Finds and cuts out mentions of one person's address (any case, also ``%40``)."""

    addresses: tuple[str, ...]
    pattern: re.Pattern[str]

    def mentions(self, value: object) -> bool:
        """Whether ``value`` (text, bytes or JSON) mentions the address."""
        if isinstance(value, bytes):
            return any(self.pattern.search(text) for text in _texts(value))
        if isinstance(value, str):
            return self.pattern.search(value) is not None
        if value is None or isinstance(value, bool | int | float):
            return False
        return self.mentions(json.dumps(value, ensure_ascii=False))

    def redact(self, text: str) -> str:
        """``text`` with every mention replaced by ``[erased]``."""
        return self.pattern.sub(ERASED, text)

    def is_only_address(self, value: object) -> bool:
        """Whether ``value`` is the address and nothing else."""
        return isinstance(value, str) and self.redact(value).strip() == ERASED

    @property
    def like_fragments(self) -> tuple[str, ...] | None:
        """Lower-case substrings a mentioning column must contain, for a SQL pre-filter.

        The local part (also URL-quoted): JSON may escape the ``@`` (``\\u0040``) but not
        these characters; else the domain. ``None`` when both have characters that stored
        JSON could escape (non-ASCII, quotes): those addresses are searched in Python only.
        """
        for part in (0, 2):
            pieces = [address.rpartition("@")[part] for address in self.addresses]
            if all(_UNESCAPED.fullmatch(piece) for piece in pieces):
                return tuple(sorted({f.lower() for p in pieces for f in (p, quote(p, safe=""))}))
        return None


def matcher_for(addresses: Iterable[str]) -> Matcher:
    """A :class:`Matcher` for the given forms of one address (``normalize_address``)."""
    forms = tuple(dict.fromkeys(a.lower() for a in addresses))
    if not forms:
        raise ValueError("no address to match")
    variants = {v for a in forms for v in (a, a.replace("@", "%40"), quote(a, safe=""))}
    alternatives = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
    regex = rf"(?<![{_LOCAL_CHARS}])(?:{alternatives})(?![\w-]|\.[\w-])"
    return Matcher(forms, re.compile(regex, re.IGNORECASE))


def _texts(raw: bytes) -> Iterator[str]:
    """The raw bytes as text, and (if JSON) re-encoded so that escapes are resolved."""
    text = raw.decode("utf-8", "replace")
    yield text
    try:
        yield json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return


def scrub_json(value: Any, matcher: Matcher) -> Any:
    """``value`` without the address: list items that are only the address are dropped,
    entries whose key mentions it removed, and it is cut out of every other string."""
    if isinstance(value, str):
        return matcher.redact(value)
    if isinstance(value, list):
        return [scrub_json(item, matcher) for item in value if not matcher.is_only_address(item)]
    if isinstance(value, dict):
        return {
            key: scrub_json(item, matcher)
            for key, item in value.items()
            if not matcher.mentions(key)
        }
    return value


# --- what to do with one row (pure) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """Delete the row, or set ``values`` on it."""

    delete: bool = False
    values: Mapping[str, Any] = field(default_factory=dict)


Identity = Callable[[Mapping[str, Any]], Iterable[object]]
Planner = Callable[[Mapping[str, Any], Matcher, datetime], Change | None]


def _columns(*names: str) -> Identity:
    return lambda row: (row[name] for name in names)


def _payload_subject(*names: str) -> Identity:
    def identity(row: Mapping[str, Any]) -> Iterable[object]:
        payload = row["payload"] if isinstance(row["payload"], dict) else {}
        return [*(row[name] for name in names), *(payload.get(f) for f in SUBJECT_FIELDS)]

    return identity


def redact_row(
    table: str, row: Mapping[str, Any], matcher: Matcher, now: datetime
) -> Change | None:
    """Cut the address out of every text, JSON and binary column of ``row``."""
    del now  # same signature as the other planners
    values: dict[str, Any] = {}
    for column in erasing.searchable_columns(table):
        old = row[column.name]
        if not matcher.mentions(old):
            continue
        if isinstance(old, str):
            whole = matcher.is_only_address(old) and column.nullable
            values[column.name] = None if whole else matcher.redact(old)
        elif isinstance(old, bytes):
            values[column.name] = b""
        else:
            values[column.name] = scrub_json(old, matcher)
    return Change(values=values) if values else None


def deleting_when(table: str, identity: Identity) -> Planner:
    """Delete rows whose ``identity`` values mention the address; redact the others."""

    def plan(row: Mapping[str, Any], matcher: Matcher, now: datetime) -> Change | None:
        if any(isinstance(v, str) and matcher.mentions(v) for v in identity(row)):
            return Change(delete=True)
        return redact_row(table, row, matcher, now)

    return plan


def plan_inbox(row: Mapping[str, Any], matcher: Matcher, now: datetime) -> Change | None:
    """A tombstone for a webhook that mentions the address (its dedupe key is kept)."""
    if not any(matcher.mentions(row[c]) for c in ("raw_body", "headers", "error")):
        return None
    return Change(values=tombstone(row["status"], row["processed_at"], now))


def tombstone(status: str, processed_at: datetime | None, now: datetime) -> dict[str, Any]:
    """The values that empty an inbox row; unprocessed events become ``ignored``."""
    done = status in ("processed", "ignored")
    return {
        "raw_body": b"",
        "headers": {},
        "error": TOMBSTONE_ERROR,
        "status": status if done else "ignored",
        "processed_at": processed_at or now,
    }


def effect_name(ledger_key: str) -> str:
    """The effect a ledger key records (``zoom_attended`` of ``zoom_attended:<uuid>:<e>``)."""
    return ledger_key.split(":", 1)[0] or "unknown"


@dataclass(frozen=True, slots=True)
class Scope:
    """One table (by name) searched for the person, and how to treat its mentioning rows."""

    table: str
    plan: Planner

    @property
    def key(self) -> str:
        """The name of the single-column primary key."""
        return erasing.key_column(self.table)


def _redacting(table: str) -> Scope:
    return Scope(table, lambda row, m, now: redact_row(table, row, m, now))


def _deleting(table: str, identity: Identity) -> Scope:
    return Scope(table, deleting_when(table, identity))


PERSON_SCOPES: tuple[Scope, ...] = (
    _deleting("people", _columns("email")),
    _deleting("attendance_sessions", _columns("email", "person_key", "name")),
    _deleting("registrants", _columns("email")),
    _deleting("zoom_registrations", _columns("email")),
    _deleting("import_rejections", _columns("email")),
    _deleting("ledger", _columns("key")),
    _deleting("outbox", _payload_subject("coalesce_key")),
    _deleting("jobs", _payload_subject("unique_key")),
    _deleting("cursors", _columns("name")),
    _redacting("meeting_instances"),
    _redacting("recordings"),
    Scope("inbox", plan_inbox),
)


# --- the report -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure removed: rows deleted and rows redacted per table.

    ``effects`` counts the removed ledger entries per effect name (all that is kept of
    them). ``in_flight_until``: a deleted outbox command was being sent by a worker whose
    lease ends then; delete the Brevo contact after that, or the send may re-create it.
    """

    deleted: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)
    effects: dict[str, int] = field(default_factory=dict)
    in_flight_until: datetime | None = None

    @property
    def total(self) -> int:
        """Rows deleted or redacted."""
        return sum(self.deleted.values()) + sum(self.redacted.values())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (counts only: nothing about the person)."""
        until = self.in_flight_until
        return {
            "deleted": dict(self.deleted),
            "redacted": dict(self.redacted),
            "effects": dict(self.effects),
            "total": self.total,
            "in_flight_until": until.isoformat() if until else None,
        }


@dataclass
class _Tally:
    deleted: Counter[str] = field(default_factory=Counter)
    redacted: Counter[str] = field(default_factory=Counter)
    effects: Counter[str] = field(default_factory=Counter)
    in_flight_until: datetime | None = None

    def in_flight(self, row: Mapping[str, Any], now: datetime) -> None:
        until = row.get("lease_expires_at")
        if row.get("state") == "running" and until is not None and until > now:
            self.in_flight_until = max(until, self.in_flight_until or until)

    def report(self) -> ErasureReport:
        return ErasureReport(
            {k: v for k, v in self.deleted.items() if v},
            {k: v for k, v in self.redacted.items() if v},
            dict(self.effects),
            self.in_flight_until,
        )


# --- one person -----------------------------------------------------------------------

Candidates = dict[str, list[Any]]


def forget_person(engine: Engine, email: str, *, now: datetime) -> ErasureReport:
    """Erase everything stored about ``email`` (module docstring); ``ValueError`` if invalid.

    Searches in a read transaction, then changes the rows found in one write transaction.
    """
    matcher = matcher_for(normalize_address(email))
    with reading(engine) as conn:
        found = find_mentions(conn, matcher)
    with transaction(engine) as conn:
        report = erase_found(conn, matcher, found, now=now)
    log.info("person_erased", **report.to_json())
    return report


def find_mentions(conn: Connection, matcher: Matcher) -> Candidates:
    """Primary keys of the rows that mention the address, per table."""
    found: Candidates = {}
    for scope in PERSON_SCOPES:
        rows = erasing.rows_mentioning(conn, scope.table, matcher.like_fragments, batch=BATCH)
        key = scope.key
        keys = [row[key] for row in rows if scope.plan(row, matcher, _EPOCH) is not None]
        if keys:
            found[scope.table] = keys
    return found


def erase_found(
    conn: Connection, matcher: Matcher, found: Candidates, *, now: datetime
) -> ErasureReport:
    """Delete or redact the rows ``find_mentions`` found, judging each one again."""
    tally = _Tally()
    for scope in PERSON_SCOPES:
        keys = found.get(scope.table, [])
        for start in range(0, len(keys), BATCH):
            rows = erasing.rows_by_key(conn, scope.table, keys[start : start + BATCH])
            _apply(conn, scope, [(row, scope.plan(row, matcher, now)) for row in rows], tally, now)
    _add_totals(conn, tally, "person_erasures", now)
    return tally.report()


def _apply(
    conn: Connection,
    scope: Scope,
    plans: list[tuple[Mapping[str, Any], Change | None]],
    tally: _Tally,
    now: datetime,
) -> None:
    name = scope.table
    doomed = [row for row, change in plans if change is not None and change.delete]
    for row in doomed:
        if name == "outbox":
            tally.in_flight(row, now)
        if name == "ledger":
            tally.effects[effect_name(row["key"])] += 1
    if doomed:
        keys = [row[scope.key] for row in doomed]
        tally.deleted[name] += erasing.delete_by_key(conn, name, keys)
    for row, change in plans:
        if change is not None and not change.delete:
            erasing.update_by_key(conn, name, row[scope.key], change.values)
            tally.redacted[name] += 1


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


# --- a whole account ------------------------------------------------------------------

ACCOUNT_TABLES = (
    "attendance_sessions",
    "registrants",
    "zoom_registrations",
    "people",
    "recordings",
    "import_rejections",
    "meeting_instances",
    "outbox",
    "jobs",
)


def forget_account(engine: Engine, account_id: str, *, now: datetime) -> ErasureReport:
    """Erase every personal row (module docstring) after ``app_deauthorized``.

    Safe to run twice: the second run finds nothing left.
    """
    with transaction(engine) as conn:
        report = erase_account(conn, account_id, now=now)
    log.info("account_erased", account_id=account_id, **report.to_json())
    return report


def erase_account(conn: Connection, account_id: str, *, now: datetime) -> ErasureReport:
    """``forget_account`` inside the caller's transaction."""
    if not account_id:
        raise ValueError("an account id is required")
    tally = _Tally()
    for until in outbox.running_lease_ends(conn):
        tally.in_flight({"state": "running", "lease_expires_at": until}, now)
    tally.effects.update(effect_name(key) for key in ledger.all_keys(conn))
    for table in (*ACCOUNT_TABLES, "ledger"):
        tally.deleted[table] += erasing.delete_all(conn, table)
    tally.deleted["cursors"] += cursors.delete_all_except(conn, TOTALS_CURSOR)
    tally.deleted["oauth_tokens"] += tokens.delete_prefixed(conn, ZOOM_TOKEN_PREFIX)
    tally.redacted["inbox"] += inbox.tombstone_all(conn, TOMBSTONE_ERROR, now=now)
    _add_totals(conn, tally, "account_erasures", now)
    return tally.report()


# --- anonymous totals -----------------------------------------------------------------


def _add_totals(conn: Connection, tally: _Tally, counter: str, now: datetime) -> None:
    position = cursors.get_for_update(conn, TOTALS_CURSOR)
    totals = dict(position) if isinstance(position, dict) else {}
    totals[counter] = int(totals.get(counter, 0)) + 1
    for name, counts in (
        ("deleted", tally.deleted),
        ("redacted", tally.redacted),
        ("effects", tally.effects),
    ):
        merged = Counter({k: int(v) for k, v in dict(totals.get(name, {})).items()})
        merged.update(counts)
        totals[name] = {k: v for k, v in sorted(merged.items()) if v}
    cursors.save(conn, TOTALS_CURSOR, totals, now=now)
