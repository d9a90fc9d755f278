"""Send the contact part of a batch plan: bulk imports, then single upserts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.engine import Engine

from zoom_brevo.brevo.client import BrevoClient, encode_import_row
from zoom_brevo.delivery.imports import ImportTracker
from zoom_brevo.delivery.plan import ContactWrite, ImportRequest, Plan
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.delivery.rows import Settler, complete_rows
from zoom_brevo.errors import ApiError
from zoom_brevo.store.engine import transaction


class ContactSender:
    """Writes contacts to Brevo and settles their outbox rows."""

    def __init__(
        self,
        engine: Engine,
        brevo: BrevoClient,
        settler: Settler,
        tracker: ImportTracker,
        report: DeliveryReport,
        *,
        owner: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._brevo = brevo
        self._settler = settler
        self._tracker = tracker
        self._report = report
        self._owner = owner
        self._clock = clock

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
        self._settler.keep_lease()
        try:
            process_ids = await self._brevo.import_encoded(rows, list_ids)
        except ApiError as exc:
            self._report.brevo_calls += 1
            self._settler.fail(ids, exc)
            return
        except ValueError as exc:  # a row alone over the import body budget
            self._settler.bury(ids, f"import refused before sending: {exc}")
            return
        self._report.brevo_calls += len(process_ids)
        now = self._clock()
        with transaction(self._engine) as conn:
            complete_rows(conn, ids, owner=self._owner, now=now)
            self._tracker.register(conn, process_ids, emails, now)
        self._settler.delivered(ids, now)
        self._report.imports_started += len(process_ids)
        self._report.contacts_imported += len(emails)
        self._report.list_adds += len(emails) * len(list_ids)

    async def upsert_all(self, contacts: Sequence[ContactWrite]) -> None:
        """Upsert ``contacts`` one call each; settle their rows (done ones even on a stop)."""
        done: list[int] = []
        try:
            for contact in contacts:
                if await self._upsert(contact):
                    done.extend(contact.ids)
        finally:  # even when stopping on refused credentials, keep what was delivered
            self._settler.complete(done)

    async def _upsert(self, contact: ContactWrite) -> bool:
        self._settler.keep_lease()
        self._report.brevo_calls += 1
        try:
            await self._brevo.upsert_contact(
                contact.email, attributes=contact.attributes, list_ids=contact.list_ids
            )
        except ApiError as exc:
            self._settler.fail(contact.ids, exc)
            return False
        self._report.contacts_upserted += 1
        self._report.list_adds += len(contact.list_ids)
        return True
