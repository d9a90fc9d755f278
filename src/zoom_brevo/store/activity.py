"""What the workers are doing now: who holds which leases, and whether anything is left.

For ``status --json``: ``leases`` lists the holders of outbox and job leases (owner, rows,
latest expiry), ``busy`` says why the system is not idle. Idle means no webhook pending,
no outbox command queued or running, none in doubt (a send begun, its outcome unknown:
being reconciled, or held for ``retry``), no job due, retrying or running, no import
awaiting Brevo. Jobs scheduled for later that have not run yet (a reconcile a day after a
meeting, the hourly sweep, the daily replay look-ups) do not count: they would keep a
quiet system busy for a day. A job waiting to be tried again after a failure does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from zoom_brevo.store.schema import inbox, jobs, outbox


@dataclass(frozen=True, slots=True)
class Held:
    """Rows of one queue leased to one owner."""

    queue: str  # outbox | jobs
    owner: str
    rows: int
    expires_at: datetime  # the latest lease of the owner's rows

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "queue": self.queue,
            "owner": self.owner,
            "rows": self.rows,
            "expires_at": self.expires_at.isoformat(),
        }


def leases(conn: Connection) -> list[Held]:
    """Every lease held now, per queue and owner (expired ones included: their owner may
    be dead, and another worker takes them at its next claim)."""
    found: list[Held] = []
    for name, table in (("outbox", outbox), ("jobs", jobs)):
        c = table.c
        stmt = (
            sa.select(c.lease_owner, sa.func.count(), sa.func.max(c.lease_expires_at))
            .where(c.state == "running", c.lease_owner.is_not(None))
            .group_by(c.lease_owner)
            .order_by(c.lease_owner)
        )
        found.extend(Held(name, str(row[0]), int(row[1]), row[2]) for row in conn.execute(stmt))
    return found


def _count(conn: Connection, table: Table, *where: sa.ColumnElement[bool]) -> int:
    stmt = sa.select(sa.func.count()).select_from(table).where(*where)
    return int(conn.execute(stmt).scalar_one())


def busy(conn: Connection, *, now: datetime, pending_imports: int) -> list[str]:
    """Why the system is not idle (empty: idle), one phrase per kind of work left."""
    o, j = outbox.c, jobs.c
    counted = {
        "webhooks pending": _count(conn, inbox, inbox.c.status == "pending"),
        "outbox commands queued": _count(
            conn, outbox, o.state == "queued", o.attempts < o.max_attempts
        ),
        "outbox commands running": _count(conn, outbox, o.state == "running"),
        "outbox commands in doubt": _count(conn, outbox, o.send_started_at.is_not(None)),
        # A job waiting out the backoff of a failed attempt is work left; one scheduled
        # for later that never ran (a reconcile, a daily look-up) is not.
        "jobs due": _count(
            conn, jobs, j.state == "queued", sa.or_(j.run_at <= now, j.attempts > 0)
        ),
        "jobs running": _count(conn, jobs, j.state == "running"),
        "imports awaiting Brevo": pending_imports,
    }
    return [f"{n} {what}" for what, n in counted.items() if n]
