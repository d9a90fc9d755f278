"""Send events and template e-mails at most once, with the ledger.

Order per batch: effects still waiting for their contact (an upsert queued for a retry or
being sent by another worker, an import not finished) are given back untried; effects
already in the ledger are completed without a call; the rest are sent, then their ledger
keys recorded and their rows completed in ONE transaction.

Crash window: a crash after Brevo accepted a request and before that transaction commits
leaves the rows claimed but unrecorded; once the lease expires they are taken again. For
e-mails Brevo closes the window: the request's ``headers.idempotencyKey`` is derived from
its ledger keys, so the replay within 30 minutes is refused as a duplicate and counted as
sent (reference brevo.md 4.1). Events have no such key at Brevo (brevo.md 6): their rows
are marked just before the request (``send_started_at``), and rows taken again with the
mark are *in doubt*: a batch's events are looked up at Brevo first, together, and only
those it does not hold are sent (``in_doubt``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Literal

from zoom_brevo.brevo.client import encode_event, event_spans
from zoom_brevo.brevo.models import Event, MessageVersion, Recipient
from zoom_brevo.delivery.decisions import is_transient_message
from zoom_brevo.delivery.in_doubt import DEFAULT_IN_DOUBT, InDoubtPolicy, Reconciler
from zoom_brevo.delivery.plan import Effect, EmailRequest, plan_emails, plan_events
from zoom_brevo.delivery.rows import SendDeps
from zoom_brevo.errors import ApiError, AuthError, PayloadRejected, RetriableApiError
from zoom_brevo.pipeline.commands import SendEvent, SendTemplateEmail
from zoom_brevo.store import ledger, outbox
from zoom_brevo.store.engine import reading

WaitFor = Callable[[str], datetime | None]
# An effect whose contact another worker is sending looks again this soon, not when that
# worker's lease ends (up to ``delivery.lease_s`` later): the send settles in well under it.
SENDING_LOOK_S = 1.0
HELD = (
    "in doubt, held: a send began and its outcome is unknown, and Brevo's events listing "
    "failed ({error}); send it with `zoom-brevo retry` (delivery.in_doubt: hold)"
)


def _ids(effects: Sequence[Effect]) -> list[int]:
    return [i for effect in effects for i in effect.ids]


def event_of(command: SendEvent) -> Event:
    """The Brevo event for a command (the contact is identified by e-mail)."""
    return Event(
        event_name=command.event_name,
        identifiers={"email_id": command.email.strip().lower()},
        event_date=command.event_date,
        event_properties=dict(command.event_properties) or None,
    )


def version_of(command: SendTemplateEmail) -> MessageVersion:
    """One personalised version of a template e-mail."""
    params = dict(command.params) or None
    return MessageVersion(to=[Recipient(email=command.email.strip().lower())], params=params)


class EffectSender:
    """Sends the effects of a batch and settles their rows."""

    def __init__(
        self,
        deps: SendDeps,
        *,
        wait_for_import: WaitFor,
        in_doubt: InDoubtPolicy = DEFAULT_IN_DOUBT,
    ) -> None:
        self._deps = deps
        self._wait_for_import = wait_for_import
        self._in_doubt = in_doubt
        self._reconciler = Reconciler(deps.brevo, deps.clock)

    async def send(self, effects: Sequence[Effect]) -> None:
        """Hold back, skip, then send ``effects``: events first, then e-mails."""
        ready = self._hold_back(effects)
        ready = self._skip_recorded(ready)
        event_effects = plan_events(ready)
        events = [event_of(e.command) for e in event_effects if isinstance(e.command, SendEvent)]
        encoded = [encode_event(event) for event in events]  # once: to cut, then to send
        for span in event_spans(encoded):
            part = slice(span.start, span.stop)
            await self._send_events(event_effects[part], events[part], encoded[part])
        for request in plan_emails(ready):
            await self._send_email(request)

    def _hold_back(self, effects: Sequence[Effect]) -> list[Effect]:
        """Give back effects whose contact is not in Brevo yet; return the others."""
        waits = self._contact_waits(effects)
        ready: list[Effect] = []
        held: dict[datetime, list[int]] = {}  # one release per due time, not per effect
        for effect in effects:
            until = waits.get(effect.ledger_key)
            if until is None:
                ready.append(effect)
            else:
                held.setdefault(until, []).extend(effect.ids)
        for until, ids in held.items():
            self._deps.settler.release(ids, until)
            self._deps.report.deferred += len(ids)
        return ready

    def _contact_waits(self, effects: Sequence[Effect]) -> dict[str, datetime]:
        keys = {f"contact:{effect.email}" for effect in effects}
        keys |= {f"contact:{effect.email.strip().lower()}" for effect in effects}
        soon = self._deps.clock() + timedelta(seconds=SENDING_LOOK_S)
        with reading(self._deps.engine) as conn:
            pending = outbox.unfinished(conn, keys, running_due=soon)
        by_key: dict[str, list[tuple[int, datetime]]] = {}
        for key, row_id, due in pending:
            by_key.setdefault(key.lower(), []).append((row_id, due))
        waits: dict[str, datetime] = {}
        for effect in effects:
            first = min(effect.ids)
            older = by_key.get(f"contact:{effect.email}".lower(), [])
            candidates = [due for row_id, due in older if row_id < first]
            imported = self._wait_for_import(effect.email.strip().lower())
            if imported is not None:
                candidates.append(imported)
            if candidates:
                waits[effect.ledger_key] = max(candidates)
        return waits

    def _skip_recorded(self, effects: Sequence[Effect]) -> list[Effect]:
        """Complete effects the ledger says were sent; return the others."""
        with reading(self._deps.engine) as conn:
            sent = ledger.already_sent(conn, [effect.ledger_key for effect in effects])
        skipped = [effect for effect in effects if effect.ledger_key in sent]
        self._deps.settler.complete(_ids(skipped))
        self._deps.report.skipped_already_sent += len(skipped)
        return [effect for effect in effects if effect.ledger_key not in sent]

    async def _send_events(
        self, given: Sequence[Effect], events: Sequence[Event], encoded: Sequence[bytes]
    ) -> None:
        """Send ``events`` (those of ``given``, in order, ``encoded``) in one request when
        they fit one; in-doubt ones only if Brevo does not hold them yet."""
        self._deps.settler.keep_lease()
        chunk, events = await self._reconcile(given, events)
        if not chunk:
            return
        self._deps.settler.mark_sending(_ids(chunk))
        kept = encoded if len(chunk) == len(given) else None  # else some left out: re-encoded
        try:
            result = await self._deps.brevo.send_events(events, encoded=kept)
        except ApiError as exc:
            self._deps.report.brevo_calls += 1
            self._deps.settler.fail(_ids(chunk), exc)
            return
        self._deps.report.brevo_calls += result.requests
        failed: dict[int, str] = {f.index: f.message for f in result.failures}
        sent = [effect for index, effect in enumerate(chunk) if index not in failed]
        self._deps.settler.commit_sent([e.ledger_key for e in sent], _ids(sent))
        self._deps.report.events_sent += len(sent)
        for index, message in failed.items():
            self._event_refused(chunk[index], message)

    async def _reconcile(
        self, chunk: Sequence[Effect], events: Sequence[Event]
    ) -> tuple[list[Effect], list[Event]]:
        """Complete the in-doubt effects Brevo holds; return the effects (and events) to send."""
        doubted: list[tuple[Effect, SendEvent, datetime]] = []
        for effect in chunk:
            since = self._deps.settler.in_doubt_since(effect.ids)
            if since is not None and isinstance(effect.command, SendEvent):
                doubted.append((effect, effect.command, since))
        if not doubted:
            return list(chunk), list(events)
        calls = self._reconciler.calls
        verdicts = await self._look_up(doubted, chunk)
        self._deps.report.brevo_calls += self._reconciler.calls - calls
        held_by_brevo = [e for e, _, _ in doubted if verdicts[id(e)] == "held"]
        if held_by_brevo:
            keys = [e.ledger_key for e in held_by_brevo]
            self._deps.settler.commit_sent(keys, _ids(held_by_brevo))
            self._deps.report.in_doubt_found += len(held_by_brevo)
        send = [
            (effect, event)
            for effect, event in zip(chunk, events, strict=True)
            if verdicts.get(id(effect), "send") == "send"
        ]
        return [effect for effect, _ in send], [event for _, event in send]

    async def _look_up(
        self, doubted: Sequence[tuple[Effect, SendEvent, datetime]], chunk: Sequence[Effect]
    ) -> dict[int, Literal["held", "send", "settled"]]:
        """Per in-doubt effect (by ``id``): whether Brevo holds its event (``held``), or it
        must be sent; ``settled`` when the lookup failed and the rows were retried or held."""
        self._deps.report.in_doubt_checked += len(doubted)
        try:
            held = await self._reconciler.held([(command, since) for _, command, since in doubted])
        except ApiError as exc:
            if isinstance(exc, AuthError):
                self._deps.settler.fail(_ids(chunk), exc)  # gives the batch back, raises
            return {id(effect): self._unknown(effect, exc) for effect, _, _ in doubted}
        return {
            id(effect): "held" if found else "send"
            for (effect, _, _), found in zip(doubted, held, strict=True)
        }

    def _unknown(self, effect: Effect, exc: ApiError) -> Literal["send", "settled"]:
        """Brevo could not say whether it holds ``effect``'s event: ask again at the next
        attempt (a passing failure), else as ``delivery.in_doubt`` says."""
        transient = isinstance(exc, RetriableApiError)
        if transient and self._deps.settler.retry_in_doubt(effect.ids, exc):
            return "settled"
        if self._in_doubt == "resend":
            return "send"
        self._deps.settler.hold_in_doubt(effect.ids, HELD.format(error=exc))
        return "settled"

    def _event_refused(self, effect: Effect, message: str) -> None:
        text = f"Brevo refused event {effect.command.ledger_key!r}: {message}"
        if is_transient_message(message):
            self._deps.settler.fail(
                effect.ids, RetriableApiError(text, service="brevo", status=207)
            )
        else:
            self._deps.settler.bury(effect.ids, text)

    async def _send_email(self, request: EmailRequest) -> None:
        self._deps.settler.keep_lease()
        self._deps.report.brevo_calls += 1
        try:
            await self._deps.brevo.send_transactional(
                template_id=request.template_id,
                versions=[
                    version_of(e.command)
                    for e in request.effects
                    if isinstance(e.command, SendTemplateEmail)
                ],
                idempotency_key=request.idempotency_key,
            )
        except PayloadRejected as exc:
            if len(request.effects) == 1:
                self._deps.settler.fail(_ids(request.effects), exc)
                return
            for effect in request.effects:  # find the one version Brevo refuses
                await self._send_email(EmailRequest(request.template_id, (effect,)))
            return
        except ApiError as exc:
            self._deps.settler.fail(_ids(request.effects), exc)
            return
        # A duplicate key means Brevo already sent this exact request: it counts as sent.
        self._deps.settler.commit_sent(
            [e.ledger_key for e in request.effects], _ids(request.effects)
        )
        self._deps.report.emails_sent += len(request.effects)
