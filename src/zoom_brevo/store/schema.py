"""Every table of the store, as SQLAlchemy Core, for SQLite and PostgreSQL alike.

Portable types only: ``JSON``, ``UTCDateTime`` (timezone-aware in Python, UTC in the
database), ``BigInteger`` keys (plain ``INTEGER`` on SQLite so that it is the rowid alias
and autoincrements). The Alembic migrations under ``migrations/versions`` must produce
exactly this metadata; ``tests/store/test_migrations.py`` compares them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC.

    SQLite has no time zone type; values are stored there as naive UTC text so that the
    lexical comparisons in claims (``run_at <= :now``) order correctly. Naive datetimes are
    refused: every ``now`` in this package is explicit and aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (naive on SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    # A bulk write binds the same ``now`` (created_at, updated_at ...) on every row, and a
    # claim reads it back from every row: each conversion remembers its last value.
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """The bind conversion, done once for a run of equal values."""
        return _last_remembered(super().bind_processor(dialect))

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """The result conversion, done once for a run of equal values."""
        return _last_remembered(super().result_processor(dialect, coltype))

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002 (SQLAlchemy signature)
    ) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _last_remembered(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """``convert``, skipped when given the value it converted last (equal instants and equal
    stored texts convert alike)."""
    if convert is None:
        return None
    last: tuple[Any, Any] = (None, convert(None))

    def process(value: Any) -> Any:
        nonlocal last
        seen, converted = last  # one tuple: threads never mix two entries
        if value is seen or value == seen:
            return converted
        converted = convert(value)
        last = (value, converted)
        return converted

    return process


ID = BigInteger().with_variant(Integer(), "sqlite")
NullableJSON = JSON(none_as_null=True)


def _id() -> Column[Any]:
    return Column("id", ID, primary_key=True, autoincrement=True)


def _lease_columns() -> list[Column[Any]]:
    return [
        Column("attempts", Integer, nullable=False, default=0),
        Column("max_attempts", Integer, nullable=False),
        Column("lease_owner", String(200)),
        Column("lease_expires_at", UTCDateTime),
        Column("last_error", Text),
    ]


inbox = Table(
    "inbox",
    metadata,
    _id(),
    Column("received_at", UTCDateTime, nullable=False),
    Column("dedupe_key", String(500), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("raw_body", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # pending | processed | ignored | failed
    Column("processed_at", UTCDateTime),
    Column("error", Text),
    # Failed tries of the handler, and when the next may run (retrying.decide; NULL: now).
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("retry_at", UTCDateTime),
    Index(None, "status", "id"),
)

jobs = Table(
    "jobs",
    metadata,
    _id(),
    Column("kind", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("unique_key", String(500), unique=True),
    Column("state", String(20), nullable=False),  # queued | running | done | dead
    Column("run_at", UTCDateTime, nullable=False),
    *_lease_columns(),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "state", "run_at"),
)
# Key prefixes (``jobs.settle_moot``) compare in byte order (``_sql.starts_with``): on
# PostgreSQL, the unique index does so only under the C collation. SQLite's always does.
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_jobs_unique_key_bytes"})
Index(
    "ix_jobs_unique_key_bytes", jobs.c.unique_key, postgresql_ops={"unique_key": "text_pattern_ops"}
).ddl_if(dialect="postgresql")

outbox = Table(
    "outbox",
    metadata,
    _id(),
    Column("kind", String(50), nullable=False),
    Column("coalesce_key", String(500)),
    Column("payload", JSON, nullable=False),
    Column("state", String(20), nullable=False),  # pending | sending | sent | dead
    Column("next_attempt_at", UTCDateTime, nullable=False),
    *_lease_columns(),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Set just before an event's request goes to Brevo, cleared once its outcome is known
    # (migration 0006): still set at the next claim means in doubt.
    Column("send_started_at", UTCDateTime),
    Index(None, "state", "next_attempt_at"),
    Index(None, "coalesce_key"),
)

ledger = Table(
    "ledger",
    metadata,
    _id(),
    Column("key", String(500), nullable=False, unique=True),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("detail", NullableJSON),
)

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("position", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

meeting_instances = Table(
    "meeting_instances",
    metadata,
    Column("uuid", String(200), primary_key=True),
    Column("meeting_id", BigInteger, nullable=False),
    Column("kind", String(20), nullable=False),  # meeting | webinar
    Column("account_id", String(100)),
    Column("topic", Text),
    Column("host_id", String(100)),
    Column("host_email", String(320)),
    Column("start_time", UTCDateTime),
    Column("end_time", UTCDateTime),
    # live | event | report: where the span came from (spans.SPAN_SOURCES, weakest first)
    Column("span_source", String(20)),
    # the occurrence of a recurring meeting or webinar (Zoom's occurrence_id), else NULL
    Column("occurrence_id", String(32)),
    Column("details", NullableJSON),
    # pending | provisional | collected | reconciled (see facts.COLLECT_STATES)
    Column("collect_state", String(20), nullable=False),
    Column("collected_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "meeting_id"),
    Index(None, "start_time"),
)

# The scheduled occurrences of a recurring meeting or webinar, as Zoom listed them (the
# registration webhooks' ``occurrences``, ``GET /webinars/{id}``): how a live instance,
# whose started webhook names no occurrence, finds the one it is (store.occurrences).
zoom_occurrences = Table(
    "zoom_occurrences",
    metadata,
    Column("kind", String(20), primary_key=True),  # meeting | webinar
    Column("meeting_id", BigInteger, primary_key=True),
    Column("occurrence_id", String(32), primary_key=True),
    Column("start_time", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

attendance_sessions = Table(
    "attendance_sessions",
    metadata,
    _id(),
    Column(
        "instance_uuid",
        String(200),
        ForeignKey("meeting_instances.uuid", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("person_key", String(400), nullable=False),
    Column("email", String(320)),
    Column("name", Text),
    Column("join_time", UTCDateTime, nullable=False),
    Column("leave_time", UTCDateTime),
    Column("status", String(20), nullable=False),  # in_meeting | in_waiting_room
    Column("source", String(20), nullable=False),  # provisional | final
    Column("created_at", UTCDateTime, nullable=False),
    # A staged row with no e-mail that names a registration: its registrant id, until
    # the switch-in gives it the registration's e-mail (pipeline.staging).
    Column("registrant_id", String(100)),
    UniqueConstraint(
        "instance_uuid",
        "source",
        "person_key",
        "status",
        "join_time",
        name="uq_attendance_sessions_natural",
    ),
    Index(None, "email"),
    # gather.people_of pages an instance's final attendees in e-mail order.
    Index(None, "instance_uuid", "source", "email"),
)

registrants = Table(
    "registrants",
    metadata,
    _id(),
    Column("kind", String(20), nullable=False),  # meeting | webinar
    Column("meeting_id", BigInteger, nullable=False),
    Column("email", String(320), nullable=False),
    Column("registrant_id", String(100)),
    Column("occurrence_id", String(100)),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("status", String(20), nullable=False),  # approved | pending | denied | cancelled
    Column("join_url", Text),
    Column("tracking_source", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # When the person registered (Zoom's create_time, or the webhook's event_ts); the
    # first value known is kept. Orders an upcoming registration against instances.
    Column("registered_at", UTCDateTime),
    # The registration form's answers (zoom.registration_form): standard fields and
    # custom questions by key; NULL when none known (approvals carry none, keep them).
    Column("answers", NullableJSON),
    UniqueConstraint("kind", "meeting_id", "email"),
    Index(None, "email"),
)

# Registrations ``zoom-brevo register`` made in Zoom: one per webinar, occurrence ("" for
# every occurrence) and address, so that a second run registers nobody twice.
zoom_registrations = Table(
    "zoom_registrations",
    metadata,
    _id(),
    Column("meeting_id", BigInteger, nullable=False),  # the meeting's or webinar's id
    Column("occurrence_id", String(100), nullable=False),
    Column("email", String(320), nullable=False),  # lower-cased
    Column("registrant_id", String(100), nullable=False),
    Column("join_url", Text),
    Column("status", String(20), nullable=False),  # approved | pending
    Column("registered_at", UTCDateTime, nullable=False),
    Column("kind", String(10), nullable=False, server_default="webinar"),  # meeting | webinar
    UniqueConstraint("kind", "meeting_id", "occurrence_id", "email"),
)

people = Table(
    "people",
    metadata,
    Column("email", String(320), primary_key=True),  # lower-cased
    Column("first_name", Text),
    Column("last_name", Text),
    Column("meetings_attended", Integer, nullable=False, default=0),
    Column("total_minutes", Float, nullable=False, default=0.0),
    Column("last_attended", UTCDateTime),
    Column("score", Float, nullable=False, default=0.0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

recordings = Table(
    "recordings",
    metadata,
    Column("instance_uuid", String(200), primary_key=True),
    Column("meeting_id", BigInteger, nullable=False),
    Column("topic", Text),
    Column("share_url", Text),
    Column("passcode", Text),
    Column("files", JSON, nullable=False),
    Column("completed_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

import_rejections = Table(
    "import_rejections",
    metadata,
    _id(),
    Column("process_id", BigInteger, nullable=False),
    Column("email", String(320), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "process_id"),
)

rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_s", Float, nullable=False),
    Column("paused_until_s", Float, nullable=False),
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("subject", String(200), primary_key=True),  # e.g. "zoom:user:<user id>"
    Column("ciphertext", LargeBinary, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
