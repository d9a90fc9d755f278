"""Send the contact part of a batch plan: bulk imports, then single upserts."""

from __future__ import annotations

from collections.abc import Sequence

from zoom_brevo.brevo.client import encode_import_row
from zoom_brevo.delivery.imports import ImportTracker
from zoom_brevo.delivery.plan import ContactWrite, ImportRequest, Plan
from zoom_brevo.delivery.rows import SendDeps, complete_rows
from zoom_brevo.errors import ApiError
from zoom_brevo.store.engine import transaction


class ContactSender:
    """Writes contacts to Brevo and settles their outbox rows."""

    def __init__(self, deps: SendDeps, tracker: ImportTracker) -> None:
        self._deps = deps
        self._tracker = tracker

    async def send(self, plan: Plan) -> None:
        """Imports first (cheapest per contact), then upserts."""
        for request in plan.imports:
            await self._import(request)
        await self.upsert_all(plan.upserts)

    async def _import(self, request: ImportRequest) -> None:
        rows = [encode_import_row(row) for row in request.rows()]
        emails = [contact.email for contact in request.contacts]
        await self.send_import(request.list_ids, rows, emails, request.ids)

    async def send_import(
        self,
        list_ids: Sequence[int],
        rows: Sequence[bytes],
        emails: Sequence[str],
        ids: Sequence[int],
    ) -> None:
        """Import encoded ``rows`` (the contacts ``emails``) into ``list_ids``; settle ``ids``.

        Started imports are followed by the tracker, registered in the transaction that
        completes the rows.
        """
        self._deps.settler.keep_lease()
        try:
            process_ids = await self._deps.brevo.import_encoded(rows, list_ids)
        except ApiError as exc:
            self._deps.report.brevo_calls += 1
            self._deps.settler.fail(ids, exc)
            return
        except ValueError as exc:  # a row alone over the import body budget
            self._deps.settler.bury(ids, f"import refused before sending: {exc}")
            return
        self._deps.report.brevo_calls += len(process_ids)
        now = self._deps.clock()
        with transaction(self._deps.engine) as conn:
            complete_rows(conn, ids, owner=self._deps.owner, now=now)
            self._tracker.register(conn, process_ids, emails, now)
        self._deps.settler.delivered(ids, now)
        self._deps.report.imports_started += len(process_ids)
        self._deps.report.contacts_imported += len(emails)
        self._deps.report.list_adds += len(emails) * len(list_ids)

    async def upsert_all(self, contacts: Sequence[ContactWrite]) -> None:
        """Upsert ``contacts`` one call each; settle their rows (done ones even on a stop)."""
        done: list[int] = []
        try:
            for contact in contacts:
                if await self._upsert(contact):
                    done.extend(contact.ids)
        finally:  # even when stopping on refused credentials, keep what was delivered
            self._deps.settler.complete(done)

    async def _upsert(self, contact: ContactWrite) -> bool:
        self._deps.settler.keep_lease()
        self._deps.report.brevo_calls += 1
        try:
            await self._deps.brevo.upsert_contact(
                contact.email, attributes=contact.attributes, list_ids=contact.list_ids
            )
        except ApiError as exc:
            self._deps.settler.fail(contact.ids, exc)
            return False
        self._deps.report.contacts_upserted += 1
        self._deps.report.list_adds += len(contact.list_ids)
        return True
