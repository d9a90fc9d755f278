"""Kept-leaves benchmark: how long a collect's ``jobs.settle_moot`` takes on PostgreSQL.

A collect ends its instance's kept leaves (``pair_leave:<uuid>:...`` jobs). The jobs table
holds ``--done`` finished jobs and ``--queued`` kept leaves of other instances (a busy
live webinar); the instance collected has none, the common case. Two forms of the same
statement, each the best of ``--tries`` runs (``EXPLAIN ANALYZE``'s execution time,
rolled back):

- before: ``unique_key LIKE 'pair\\_leave:<uuid>:%'``, and no byte-order index (0011's
  schema): under a collation other than C (this server's C.UTF-8 included) PostgreSQL
  filters every queued job read through ``(state, run_at)``;
- after: ``unique_key ~>=~ prefix AND unique_key ~<~ prefix_upper``
  (``store._sql.starts_with``) through the ``text_pattern_ops`` index of migration 0012.

Each row of figures gets a fresh schema. Not a test: run it by hand, e.g.

    PYTHONPATH=. nice -n 19 .venv/bin/python bench/kept_leaves.py --queued 0 2000 20000

(``PYTHONPATH=.``: the schema helper of the store tests, ``tests.store.conftest``.)
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from tests.store.conftest import pg_schema

from zoom_brevo.store import engine as store_engine
from zoom_brevo.store._sql import starts_with
from zoom_brevo.store.schema import jobs

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PREFIX = "pair_leave:collected-instance:"
ROWS = (
    "INSERT INTO jobs (kind, payload, unique_key, state, run_at, attempts, max_attempts,"
    " created_at, updated_at) SELECT '{kind}', '{{}}', '{kind}:' || g || ':x', '{state}',"
    " now() + interval '1 hour', 0, 6, now(), now() FROM generate_series(1, {n}) g"
)
Where = Callable[[Connection], sa.ColumnElement[bool]]


def like(_: Connection) -> sa.ColumnElement[bool]:
    """The condition before: a LIKE pattern."""
    return jobs.c.unique_key.startswith(PREFIX, autoescape=True)


def ranged(conn: Connection) -> sa.ColumnElement[bool]:
    """The condition after: a byte-order range."""
    return starts_with(conn, jobs.c.unique_key, PREFIX)


def fill(engine: Engine, done: int, queued: int) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(ROWS.format(kind="collect", state="done", n=done))
        if queued:
            conn.exec_driver_sql(ROWS.format(kind="pair_leave", state="queued", n=queued))
        conn.exec_driver_sql("ANALYZE jobs")


def best_ms(engine: Engine, where: Where, *, tries: int, without_index: bool) -> float:
    best = float("inf")
    for _ in range(tries):
        with engine.begin() as conn:
            if without_index:
                conn.exec_driver_sql("DROP INDEX ix_jobs_unique_key_bytes")
            c = jobs.c
            stmt = sa.update(jobs).where(c.kind == "pair_leave", c.state == "queued", where(conn))
            stmt = stmt.values(state="done", updated_at=NOW)
            sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = conn.exec_driver_sql("EXPLAIN ANALYZE " + sql, ()).all()  # "%%": one "%"
            text = "\n".join(row[0] for row in plan)
            found = re.search(r"Execution Time: ([\d.]+) ms", text)
            assert found is not None, text
            best = min(best, float(found.group(1)))
            conn.rollback()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--done", type=int, default=200_000)
    parser.add_argument("--queued", type=int, nargs="+", default=[0, 2_000, 20_000])
    parser.add_argument("--tries", type=int, default=15)
    args = parser.parse_args()
    print("| done jobs | queued kept leaves | before ms | after ms | before/after |")
    print("|---:|---:|---:|---:|---:|")
    for queued in args.queued:
        with pg_schema(args.pg) as url:
            engine = store_engine.create_engine(url)
            store_engine.migrate(engine)
            fill(engine, args.done, queued)
            before = best_ms(engine, like, tries=args.tries, without_index=True)
            after = best_ms(engine, ranged, tries=args.tries, without_index=False)
            engine.dispose()
        print(f"| {args.done:,} | {queued:,} | {before:.3f} | {after:.3f} | {before / after:.0f} |")


if __name__ == "__main__":
    main()
