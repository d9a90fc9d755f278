"""Encrypted OAuth tokens at rest, by subject (e.g. ``"zoom:user:<id>"``).

The store keeps ciphertext only; encryption with ``storage.encryption_key`` happens in the
caller, so no key ever reaches the database.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.store._sql import upsert_insert
from zoom_brevo.store.schema import oauth_tokens


def save(conn: Connection, subject: str, ciphertext: bytes, *, now: datetime) -> None:
    """Store (or replace) the encrypted token of ``subject``."""
    insert = upsert_insert(conn, oauth_tokens).values(
        subject=subject, ciphertext=ciphertext, updated_at=now
    )
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[oauth_tokens.c.subject],
            set_={"ciphertext": insert.excluded.ciphertext, "updated_at": now},
        )
    )


def load(conn: Connection, subject: str) -> bytes | None:
    """The encrypted token of ``subject``, or ``None``."""
    stmt = sa.select(oauth_tokens.c.ciphertext).where(oauth_tokens.c.subject == subject)
    value: bytes | None = conn.execute(stmt).scalar_one_or_none()
    return value


def delete(conn: Connection, subject: str) -> bool:
    """Forget ``subject``'s token (deauthorization); ``True`` if there was one."""
    stmt = sa.delete(oauth_tokens).where(oauth_tokens.c.subject == subject)
    return conn.execute(stmt).rowcount == 1


def load_all(conn: Connection) -> list[tuple[str, bytes]]:
    """Every ``(subject, ciphertext)`` pair, by subject (for key rotation)."""
    stmt = sa.select(oauth_tokens.c.subject, oauth_tokens.c.ciphertext).order_by(
        oauth_tokens.c.subject
    )
    return [(row.subject, row.ciphertext) for row in conn.execute(stmt)]


def delete_stale(conn: Connection, prefix: str, *, before: datetime) -> int:
    """Forget the entries whose subject starts with ``prefix`` updated before ``before``."""
    stmt = sa.delete(oauth_tokens).where(
        oauth_tokens.c.subject.startswith(prefix, autoescape=True),
        oauth_tokens.c.updated_at < before,
    )
    return conn.execute(stmt).rowcount


def delete_prefixed(conn: Connection, prefix: str) -> int:
    """Forget every entry whose subject starts with ``prefix``; how many there were."""
    stmt = sa.delete(oauth_tokens).where(oauth_tokens.c.subject.startswith(prefix, autoescape=True))
    return int(conn.execute(stmt).rowcount)
