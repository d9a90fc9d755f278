"""Every due contact command, streamed into few large imports (``drain(contacts_first=True)``).

Contact commands are claimed a page at a time (the deliverer's batch size). Each contact is
encoded at once into the ``jsonBody`` row of the pending import of its set of lists, and the
claimed page is dropped: memory holds encoded rows (a few hundred bytes a contact) and row
ids, however large the sync. An import is sent when its body would pass Brevo's advised
8 MB (brevo.md 2.5; about 25,000 contacts), and at the end. So a 200,000-contact sync makes
about ten imports, not one per page, and has few processes to follow from Brevo's
100-calls-an-hour budget.

Rows waiting in a pending import stay leased to this worker (the lease is extended while
the import fills) and are settled when it is sent, as in a plain batch. Contacts without
lists, and a phase with fewer contacts than the import threshold, are upserted one by one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.engine import Engine

from zoom_brevo.brevo.chunking import IMPORT_MAX_BODY_BYTES
from zoom_brevo.brevo.client import BrevoClient, encode_import_row
from zoom_brevo.delivery.contacts import ContactSender
from zoom_brevo.delivery.imports import ImportTracker
from zoom_brevo.delivery.lease import Lease, hand_back
from zoom_brevo.delivery.plan import ContactWrite, parse
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.delivery.rows import SendDeps, Settler
from zoom_brevo.errors import AuthError
from zoom_brevo.store import outbox
from zoom_brevo.store.engine import transaction
from zoom_brevo.store.outbox import CONTACT_KINDS, Command

# Room left in the 8 MB for the import's envelope (listIds and flags, about 150 bytes).
ENVELOPE_ALLOWANCE = 4096
IMPORT_MAX_CONTACTS = 5_000
"""Contacts per import at most: each waiting contact is held in memory (its encoded row,
e-mail and row ids, about 0.6 KB), so this, not N, bounds the phase's memory (about
1.5 MB of body an import; docs/benchmarks.md, "Webinar sync")."""
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Row:
    """What settling needs of a claimed row, without its payload."""

    id: int
    attempts: int
    max_attempts: int
    kind: str
    created_at: datetime


@dataclass(slots=True)
class _Pending:
    """The import being filled for one set of lists."""

    list_ids: tuple[int, ...]
    settler: Settler
    rows: list[bytes] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    contacts: list[ContactWrite] = field(default_factory=list)  # only while few
    size: int = 0


@dataclass(eq=False)
class BulkContacts:
    """Claims contact commands page by page and sends them as large imports."""

    engine: Engine
    brevo: BrevoClient
    tracker: ImportTracker
    report: DeliveryReport
    lease: Lease = field(kw_only=True)
    page_size: int = field(kw_only=True)
    import_threshold: int = field(kw_only=True)
    max_body_bytes: int = field(default=IMPORT_MAX_BODY_BYTES, kw_only=True)
    max_contacts: int = field(default=IMPORT_MAX_CONTACTS, kw_only=True)
    _pending: dict[tuple[int, ...], _Pending] = field(default_factory=dict, init=False)
    _with_lists: int = field(default=0, init=False)  # contacts with lists seen by this phase

    async def run(self) -> None:
        """Deliver every contact command due now; return once none can be claimed."""
        try:
            while True:
                claimed = self._claim()
                if claimed:
                    await self._take(claimed)
                elif any(p.ids for p in self._pending.values()):
                    # Newer commands for contacts waiting here are claimable once sent.
                    await self._flush_all()
                else:
                    return
        except (AuthError, asyncio.CancelledError):
            for settler in list(self.lease.held):  # pending imports, the page being read
                hand_back(settler, self.lease.owner)
                self.lease.let_go(settler)
            raise

    def _claim(self) -> list[Command]:
        for pending in self._pending.values():
            pending.settler.keep_lease()
        lease = self.lease
        with transaction(self.engine) as conn:
            return outbox.claim_batch(
                conn,
                limit=self.page_size,
                owner=lease.owner,
                lease_s=lease.lease_s,
                now=lease.clock(),
                kinds=sorted(CONTACT_KINDS),
            )

    async def _take(self, claimed: Sequence[Command]) -> None:
        self.report.batches += 1
        settler = self._settler(claimed)
        parsed = parse(outbox.coalesce(claimed))
        contacts = parsed.contacts
        for bad in parsed.malformed:
            settler.bury(list(bad.ids), bad.reason)
        await self._sender(settler).upsert_all([c for c in contacts if not c.list_ids])
        rows = {command.id: command for command in claimed}
        for contact in contacts:
            if contact.list_ids:
                await self._add(contact, [rows[i] for i in contact.ids])
        self.lease.let_go(settler)  # its rows with lists are held by their pending import

    async def _add(self, contact: ContactWrite, claimed: Sequence[Command]) -> None:
        row = encode_import_row({"email": contact.email, "attributes": contact.attributes})
        pending = self._pending.get(contact.list_ids)
        if pending is not None and self._full(pending, len(row)):
            await self._flush(pending)
            pending = None
        if pending is None:
            pending = _Pending(contact.list_ids, self._settler(()))
            self._pending[contact.list_ids] = pending
        pending.settler.hold(
            [_Row(c.id, c.attempts, c.max_attempts, c.kind, c.created_at) for c in claimed]
        )
        pending.size += len(row) + (1 if pending.rows else 0)
        pending.rows.append(row)
        pending.emails.append(contact.email)
        pending.ids.extend(contact.ids)
        self._with_lists += 1
        if self._with_lists < self.import_threshold:
            pending.contacts.append(contact)
        else:
            for each in self._pending.values():
                each.contacts.clear()

    def _full(self, pending: _Pending, row_bytes: int) -> bool:
        """Whether ``pending`` has no room for one more row of ``row_bytes``."""
        if not pending.rows:
            return False
        over_size = pending.size + 1 + row_bytes > self.max_body_bytes - ENVELOPE_ALLOWANCE
        return over_size or len(pending.rows) >= self.max_contacts

    async def _flush_all(self) -> None:
        for pending in list(self._pending.values()):
            await self._flush(pending)

    async def _flush(self, pending: _Pending) -> None:
        """Send one pending import (or its few contacts one by one) and forget it."""
        del self._pending[pending.list_ids]
        sender = self._sender(pending.settler)
        try:
            if self._with_lists < self.import_threshold:
                await sender.upsert_all(pending.contacts)
                return
            await sender.send_import(pending.list_ids, pending.rows, pending.emails, pending.ids)
        finally:
            self.lease.let_go(pending.settler)
        log.info("delivery_import", contacts=len(pending.rows), body_bytes=pending.size)

    def _settler(self, claimed: Sequence[Command | _Row]) -> Settler:
        return self.lease.settler(self.engine, claimed, self.report)

    def _sender(self, settler: Settler) -> ContactSender:
        lease = self.lease
        deps = SendDeps(self.engine, self.brevo, settler, self.report, lease.owner, lease.clock)
        return ContactSender(deps, self.tracker)
