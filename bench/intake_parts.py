"""The three per-webhook costs issue 19 cut, each against what it replaced, in one run.

- the group commit's insert of a batch: SQLAlchemy's compiled executemany of the upsert
  (``insertmanyvalues``, what ``inbox.insert_many`` did) against ``inbox.insert_many`` now
  (one SQL text, the columns' bind processors applied directly); CPU time of the calling
  thread per batch, each in its own committed transaction, on SQLite (and PostgreSQL with
  ``--pg``);
- the body read: ``asyncio.timeout`` around ``read_limited`` (``read_within``) against
  ``BodyDeadlines.read``, on uvloop, for a body that came in one message (Zoom's case);
- the dedupe key's canonical JSON: ``JSONEncoder.encode`` against the prebuilt C encoder.

The variants alternate, ``--rounds`` times after one warm-up each, and the medians are
reported with their ratio. Not a test: run it by hand, e.g.

    .venv/bin/python bench/intake_parts.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from statistics import median
from typing import Any

import sqlalchemy as sa
import uvloop
from ingest import requests_for
from sqlalchemy.dialects import postgresql, sqlite

from zoom_brevo.server import intake
from zoom_brevo.server.body import BodyDeadlines, read_within
from zoom_brevo.store import inbox
from zoom_brevo.store.engine import create_engine, migrate, transaction
from zoom_brevo.store.schema import inbox as inbox_table


def compare(
    name: str, before: Callable[[], float], after: Callable[[], float], rounds: int
) -> None:
    """Alternate the two variants ``rounds`` times; print medians (µs) and the ratio."""
    times: dict[str, list[float]] = {"before": [], "after": []}
    before(), after()  # warm-up: statement compilation and caches
    for _ in range(rounds):
        times["before"].append(before())
        times["after"].append(after())
    old, new = median(times["before"]), median(times["after"])
    print(f"| {name} | {1e6 * old:.1f} | {1e6 * new:.1f} | {new / old:.2f} |")


# --- the insert ------------------------------------------------------------------------------


def _compiled(conn: sa.Connection, rows: list[inbox.NewInboxEvent], now: datetime) -> None:
    """What ``inbox.insert_many`` did before: SQLAlchemy's executemany with RETURNING."""
    postgres = conn.dialect.name == "postgresql"
    upsert = postgresql.insert if postgres else sqlite.insert
    stmt = upsert(inbox_table).on_conflict_do_nothing(index_elements=["dedupe_key"])
    params = [
        {
            "received_at": now,
            "dedupe_key": row.dedupe_key,
            "event_type": row.event_type,
            "raw_body": row.raw_body,
            "headers": row.headers,
            "status": "pending",
        }
        for row in rows
    ]
    list(conn.execute(stmt.returning(inbox_table.c.id, inbox_table.c.dedupe_key), params))


def insert_timer(
    engine: sa.Engine, batch: int, insert: Callable[..., Any], bodies: list[bytes]
) -> Callable[[], float]:
    """A run of one batch insert of fresh rows; returns the thread's CPU seconds for it."""
    headers = {"content-type": "application/json", "x-zm-signature": "***"}

    def run() -> float:
        tag = uuid.uuid4().hex
        rows = [
            inbox.NewInboxEvent(f"{tag}-{i}", "meeting.participant_joined", body, headers)
            for i, body in enumerate(bodies[:batch])
        ]
        with transaction(engine) as conn:
            started = time.thread_time()
            insert(conn, rows, now=datetime.now(UTC))
            return time.thread_time() - started

    return run


@contextlib.contextmanager
def stores(pg: str | None) -> Iterator[list[tuple[str, sa.Engine]]]:
    """A migrated SQLite file, and a fresh PostgreSQL schema with ``pg`` (dropped after)."""
    with tempfile.TemporaryDirectory() as tmp:
        engines = [("SQLite", create_engine(f"sqlite:///{tmp}/parts.db"))]
        schema = f"zb_parts_{uuid.uuid4().hex[:10]}"
        if pg:
            admin = sa.create_engine(pg)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            url = sa.make_url(pg).update_query_dict({"options": f"-csearch_path={schema}"})
            engines.append(("PostgreSQL", create_engine(url.render_as_string(hide_password=False))))
        try:
            for _, engine in engines:
                migrate(engine)
            yield engines
        finally:
            for _, engine in engines:
                engine.dispose()
            if pg:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


# --- the body read ---------------------------------------------------------------------------


def read_timer(read: Callable[[Any], Any], count: int) -> Callable[[], float]:
    """``count`` reads of a body that came in one message, on uvloop; seconds per read."""
    message = {"type": "http.request", "body": b"{}", "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    async def reads() -> float:
        started = time.perf_counter()
        for _ in range(count):
            await read(receive)
        return (time.perf_counter() - started) / count

    return lambda: uvloop.run(reads())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="also measure the insert on this PostgreSQL")
    parser.add_argument("--batch", type=int, default=100, help="rows per insert")
    parser.add_argument("--rounds", type=int, default=30, help="alternations per pair")
    args = parser.parse_args()
    bodies = [body for body, _ in requests_for(args.batch, "parts")]
    print("| what | before µs | after µs | after/before |")
    print("|---|---|---|---|")
    with stores(args.pg) as engines:
        for name, engine in engines:
            compare(
                f"insert of {args.batch} rows, {name} (CPU of the writer thread)",
                insert_timer(engine, args.batch, _compiled, bodies),
                insert_timer(engine, args.batch, inbox.insert_many, bodies),
                args.rounds,
            )
    deadlines = BodyDeadlines(10.0)
    compare(
        "body read in one message",
        read_timer(lambda receive: read_within(receive, 1 << 20, 10.0), 20_000),
        read_timer(lambda receive: deadlines.read(receive, 1 << 20), 20_000),
        args.rounds,
    )
    body = json.loads(bodies[0])
    parts = intake._identity(body["event"], body, body["payload"])
    compare(
        "canonical JSON of a participant key",
        lambda: _per_call(lambda: intake._CANONICAL.encode(parts)),
        lambda: _per_call(lambda: intake._canonical(parts)),
        args.rounds,
    )


def _per_call(call: Callable[[], object], count: int = 20_000) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count


if __name__ == "__main__":
    main()
