"""Create campaign lists and send campaigns once, with the ledger (recording ``campaign`` mode).

Brevo offers no idempotency key for lists and campaigns (reference brevo.md 4.2), so each
step is recorded in the ledger right after its call, with the id Brevo gave: a command
whose key is recorded completes without a call. A campaign's creation and its send are
recorded separately, so a send that failed and is retried does not create a second
campaign. A send answered with error code ``campaign_sent`` (brevo.md 6: the campaign went out, but
the record of it did not commit) counts as sent. Failures are settled like every outbox
command: retried with backoff, dead-lettered when out of attempts or refused.

Crash window: a crash after Brevo created a list or campaign and before its record commits
creates it again when the command is retried (the duplicate is not sent: the send step
sends the recorded campaign only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zoom_brevo.delivery.plan import CampaignWork
from zoom_brevo.delivery.rows import SendDeps, complete_rows
from zoom_brevo.errors import ApiError
from zoom_brevo.pipeline.commands import CreateCampaignList, SendCampaign
from zoom_brevo.store import ledger
from zoom_brevo.store.engine import reading, transaction

ALREADY_SENT = "campaign_sent"  # Brevo's error code for a second sendNow (brevo.md 6)
DEFAULT_FOLDER = "Zoom"


class CampaignSender:
    """Delivers the campaign commands of a batch and settles their rows."""

    def __init__(self, deps: SendDeps) -> None:
        self._deps = deps

    async def send(self, work: Sequence[CampaignWork]) -> None:
        """Each list, then each campaign, at most once."""
        for item in work:
            self._deps.settler.keep_lease()
            if self._recorded(item.command.ledger_key) is not None:
                self._deps.settler.complete(list(item.ids))
                self._deps.report.skipped_already_sent += 1
                continue
            try:
                if isinstance(item.command, CreateCampaignList):
                    detail = {"list_id": await self._create_list(item.command.name)}
                else:
                    detail = {"campaign_id": await self._send(item.command)}
            except ApiError as exc:
                self._deps.settler.fail(list(item.ids), exc)
                continue
            self._commit(item.command.ledger_key, detail, item.ids)

    async def _create_list(self, name: str) -> int:
        """A new list in the first folder (a ``Zoom`` folder is created when there is none)."""
        self._deps.report.brevo_calls += 1
        folders = await self._deps.brevo.list_folders()
        if folders:
            folder_id = int(folders[0].id)
        else:
            self._deps.report.brevo_calls += 1
            folder_id = await self._deps.brevo.create_folder(DEFAULT_FOLDER)
        self._deps.report.brevo_calls += 1
        return await self._deps.brevo.create_list(name, folder_id)

    async def _send(self, command: SendCampaign) -> int:
        created = self._recorded(command.created_key)
        if created is not None:
            campaign_id = int(created["campaign_id"])
        else:
            self._deps.report.brevo_calls += 1
            campaign_id = await self._deps.brevo.create_email_campaign(
                name=command.name, subject=command.subject, sender=command.sender,
                list_ids=command.list_ids, template_id=command.template_id, params=command.params,
            )  # fmt: skip
            with transaction(self._deps.engine) as conn:
                ledger.record_if_new(
                    conn, command.created_key, now=self._deps.clock(),
                    detail={"campaign_id": campaign_id},
                )  # fmt: skip
        self._deps.report.brevo_calls += 1
        try:
            await self._deps.brevo.send_campaign_now(campaign_id)
        except ApiError as exc:
            if exc.code != ALREADY_SENT:
                raise
        return campaign_id

    def _recorded(self, key: str) -> dict[str, Any] | None:
        with reading(self._deps.engine) as conn:
            return ledger.detail(conn, key)

    def _commit(self, key: str, detail: dict[str, Any], ids: Sequence[int]) -> None:
        """Record the step with its Brevo id and complete its rows, in one transaction."""
        now = self._deps.clock()
        with transaction(self._deps.engine) as conn:
            ledger.record_if_new(conn, key, now=now, detail=detail)
            complete_rows(conn, ids, owner=self._deps.owner, now=now)
        self._deps.settler.delivered(ids, now)
