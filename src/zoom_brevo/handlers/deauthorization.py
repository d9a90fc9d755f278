"""``app_deauthorized``: the account uninstalled the app; erase its stored personal data.

Zoom asks apps to delete the user's data after this event (reference zoom.md 4.5). The
erasure (people, sessions, registrants, ledger, outbox, jobs, Zoom tokens; inbox rows kept
as tombstones) is ``zoom_brevo.erasure.erase_account``, run in the inbox row's own
transaction: the row is marked processed only together with the erasure. Erasing twice is
harmless, so a redelivered event needs no special care.
"""

from __future__ import annotations

from zoom_brevo.erasure import erase_account
from zoom_brevo.handlers.context import Context
from zoom_brevo.handlers.events import Deauthorization


def handle_deauthorized(ctx: Context, body: Deauthorization) -> None:
    """Erase what is stored for the deauthorizing account."""
    account_id = body.payload.account_id
    if not account_id:
        raise ValueError("app_deauthorized without payload.account_id")
    erase_account(ctx.conn, account_id, now=ctx.now)
