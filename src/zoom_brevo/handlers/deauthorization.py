"""``app_deauthorized``: the served account uninstalled the app; erase its personal data.

Zoom asks apps to delete the user's data after this event (reference zoom.md 4.5). One
endpoint may receive the events of several accounts (one Marketplace app installed by
many), and Zoom's own documentation sample names account ``AAAAAABBBB``: only the account
this connector serves (``connectors.zoom.account_id``, ``HandlerOptions.account_id``) is
acted on. Any other account's deauthorization is logged (``deauthorization_ignored``),
counted (``status``, ``/metrics``) and changes nothing else.

For the served account the erasure (people, sessions, registrants, ledger, outbox, jobs,
Zoom tokens; inbox rows kept as tombstones) is ``zoom_brevo.erasure.erase_account``, run
in the inbox row's own transaction: the row is marked processed only together with the
erasure. The deauthorization is recorded (``store.deauthorizations``) so that ``status``
and ``/admin`` say why nothing flows any more. Erasing twice is harmless, so a
redelivered event needs no special care.
"""

from __future__ import annotations

import structlog

from zoom_brevo.erasure import erase_account
from zoom_brevo.handlers.context import Context
from zoom_brevo.store import deauthorizations
from zoom_brevo.zoom.webhook_models import Deauthorization

log = structlog.get_logger(__name__)


def handle_deauthorized(ctx: Context, body: Deauthorization) -> None:
    """Erase what is stored for the served account; ignore any other account's event."""
    account_id = body.payload.account_id
    if not account_id:
        raise ValueError("app_deauthorized without payload.account_id")
    if account_id != ctx.options.account_id:
        log.warning("deauthorization_ignored", account_id=account_id)
        deauthorizations.record(ctx.conn, account_id, "ignored", now=ctx.now)
        return
    report = erase_account(ctx.conn, account_id, now=ctx.now)
    deauthorizations.record(ctx.conn, account_id, "erased", now=ctx.now)
    log.warning("account_deauthorized", account_id=account_id, **report.to_json())
