"""Rate-limit buckets shared by every process on one database (ARCHITECTURE invariant 4).

The arithmetic is ``zoom_brevo.ratelimit``'s pure ``reserve``/``pause``; this module only
reads and writes the bucket under a row lock (``FOR UPDATE`` on PostgreSQL, the
``BEGIN IMMEDIATE`` write lock on SQLite). Times are wall-clock seconds since the epoch,
the same in every process.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.ratelimit import Bucket, Limit, fresh_bucket, pause, reserve
from zoom_brevo.store._sql import upsert_insert
from zoom_brevo.store.schema import rate_buckets


def _locked_bucket(conn: Connection, key: str, limit: Limit, now_s: float) -> Bucket:
    fresh = fresh_bucket(limit, now_s)
    conn.execute(
        upsert_insert(conn, rate_buckets)
        .values(key=key, tokens=fresh.tokens, updated_s=now_s, paused_until_s=0.0)
        .on_conflict_do_nothing(index_elements=[rate_buckets.c.key])
    )
    c = rate_buckets.c
    stmt = sa.select(c.tokens, c.updated_s, c.paused_until_s).where(c.key == key).with_for_update()
    row = conn.execute(stmt).one()
    return Bucket(tokens=row.tokens, updated_s=row.updated_s, paused_until_s=row.paused_until_s)


def _save(conn: Connection, key: str, bucket: Bucket) -> None:
    conn.execute(
        sa.update(rate_buckets)
        .where(rate_buckets.c.key == key)
        .values(
            tokens=bucket.tokens, updated_s=bucket.updated_s, paused_until_s=bucket.paused_until_s
        )
    )


def reserve_token(conn: Connection, key: str, limit: Limit, *, now_s: float) -> float:
    """Reserve one call under ``key``; return how many seconds the caller must wait first.

    ``now_s`` is read before the row lock is granted, so a caller that waited for the lock
    may bring a time older than the bucket's; the bucket's time never goes back (that
    would refill the same interval twice) and the caller waits the difference instead.
    """
    bucket = _locked_bucket(conn, key, limit, now_s)
    at_s = max(now_s, bucket.updated_s)
    bucket, wait_s = reserve(bucket, limit, at_s)
    _save(conn, key, bucket)
    return wait_s + (at_s - now_s)


def pause_until(conn: Connection, key: str, limit: Limit, *, until_s: float, now_s: float) -> None:
    """Allow no call under ``key`` before ``until_s`` (a 429 with a wait)."""
    _save(conn, key, pause(_locked_bucket(conn, key, limit, now_s), until_s))
