"""Pure planning: which Brevo requests deliver a batch of (coalesced) outbox commands.

Contacts go first: a batch holding at least ``import_threshold`` contacts is imported with
``POST /contacts/import`` (one request per set of target lists, since an import takes a
single ``listIds``; reference brevo.md 2.5), contacts without lists and smaller batches are
upserted one by one with ``POST /contacts`` and their ``listIds`` (brevo.md 2.2). Either
way the list memberships travel with the contact, so no separate list call is needed.
Events are sent through ``/events/batch`` in requests cut by body size (the client's
``event_batches``, brevo.md 3.2) and template e-mails are grouped per template into
``messageVersions`` requests (brevo.md 4.1).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from zoom_brevo.pipeline.commands import (
    CampaignCommand,
    CreateCampaignList,
    SendCampaign,
    SendEvent,
    SendTemplateEmail,
    UpsertContact,
    command_from_payload,
)
from zoom_brevo.store.outbox import CONTACT_KINDS, Merged

VERSIONS_PER_REQUEST = 1000  # brevo.md 4.1: at most 1000 messageVersions per request
IMPORT_ROWS_PER_REQUEST = 20_000  # keeps one import under Brevo's ~8 MB body advice
_KEY_NAMESPACE = uuid.UUID("0b6c2b8e-5b51-4a4e-9a43-6d0f3f3c1d27")


@dataclass(frozen=True, slots=True)
class ContactWrite:
    """One contact to write, standing for the outbox rows ``ids``."""

    email: str
    attributes: dict[str, Any]
    list_ids: tuple[int, ...]
    ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """One ``POST /contacts/import`` of ``contacts`` into ``list_ids``."""

    list_ids: tuple[int, ...]
    contacts: tuple[ContactWrite, ...]

    @property
    def ids(self) -> tuple[int, ...]:
        """Outbox rows this request delivers."""
        return tuple(i for contact in self.contacts for i in contact.ids)

    def rows(self) -> list[dict[str, Any]]:
        """The ``jsonBody`` rows."""
        return [{"email": c.email, "attributes": c.attributes} for c in self.contacts]


@dataclass(frozen=True, slots=True)
class Effect:
    """An event or e-mail sent at most once, keyed by ``ledger_key``; rows ``ids``."""

    command: SendEvent | SendTemplateEmail
    ids: tuple[int, ...]

    @property
    def ledger_key(self) -> str:
        """The ledger key recorded once it is sent."""
        return self.command.ledger_key

    @property
    def email(self) -> str:
        """The recipient."""
        return self.command.email


@dataclass(frozen=True, slots=True)
class CampaignWork:
    """A campaign list or a campaign to create (and send) once; rows ``ids``."""

    command: CampaignCommand
    ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class EmailRequest:
    """One ``POST /smtp/email`` of template ``template_id`` with one version per effect."""

    template_id: int
    effects: tuple[Effect, ...]

    @property
    def idempotency_key(self) -> str:
        """Derived from the ledger keys, so a replay of the same request is refused by Brevo."""
        return idempotency_key(e.ledger_key for e in self.effects)


@dataclass(frozen=True, slots=True)
class Malformed:
    """Rows whose payload cannot become a command (dead-lettered with ``reason``)."""

    ids: tuple[int, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """What one batch writes: contacts first, then the effects (sent once each).

    Effects are planned into requests (``plan_events``, ``plan_emails``) only when they are
    about to be sent, after those still waiting for their contact are held back.
    """

    imports: tuple[ImportRequest, ...] = ()
    upserts: tuple[ContactWrite, ...] = ()
    effects: tuple[Effect, ...] = ()
    malformed: tuple[Malformed, ...] = ()
    campaigns: tuple[CampaignWork, ...] = ()

    @property
    def contact_count(self) -> int:
        """How many contacts the plan writes."""
        return len(self.upserts) + sum(len(r.contacts) for r in self.imports)


def idempotency_key(ledger_keys: Iterable[str]) -> str:
    """A UUID determined by the set of ``ledger_keys`` (order and repeats ignored)."""
    return str(uuid.uuid5(_KEY_NAMESPACE, "\n".join(sorted(set(ledger_keys)))))


@dataclass
class Parsed:
    """Coalesced outbox rows rebuilt as commands, by what delivers them."""

    contacts: list[ContactWrite]
    effects: list[Effect]
    malformed: list[Malformed]
    campaigns: list[CampaignWork]


def parse(merged: Sequence[Merged]) -> Parsed:
    """Rebuild commands from coalesced outbox rows; unknown kinds and bad payloads aside."""
    contacts: list[ContactWrite] = []
    effects: list[Effect] = []
    malformed: list[Malformed] = []
    campaigns: dict[str, CampaignWork] = {}
    for item in merged:
        kind = "contact" if item.kind in CONTACT_KINDS else item.kind
        try:
            command = command_from_payload(kind, item.payload)
        except (KeyError, TypeError, ValueError) as exc:
            malformed.append(Malformed(item.ids, f"malformed {item.kind} command: {exc!r}"))
            continue
        if isinstance(command, UpsertContact):
            contacts.append(_contact_write(command, item.ids))
        elif isinstance(command, CreateCampaignList | SendCampaign):
            known = campaigns.get(command.ledger_key)  # queued twice: done once
            ids = item.ids if known is None else (*known.ids, *item.ids)
            campaigns[command.ledger_key] = CampaignWork(command, ids)
        else:
            effects.append(Effect(command, item.ids))
    return Parsed(contacts, _dedupe(effects), malformed, list(campaigns.values()))


def _contact_write(command: UpsertContact, ids: tuple[int, ...]) -> ContactWrite:
    email = command.email.strip().lower()
    lists = tuple(sorted(set(command.list_ids)))
    return ContactWrite(email, dict(command.attributes), lists, ids)


def _dedupe(effects: Sequence[Effect]) -> list[Effect]:
    """One effect per ledger key (the same command enqueued twice is sent once)."""
    by_key: dict[str, Effect] = {}
    for effect in effects:
        known = by_key.get(effect.ledger_key)
        by_key[effect.ledger_key] = (
            effect if known is None else Effect(known.command, (*known.ids, *effect.ids))
        )
    return list(by_key.values())


def plan_contacts(
    contacts: Sequence[ContactWrite], import_threshold: int
) -> tuple[list[ImportRequest], list[ContactWrite]]:
    """Imports (one per list set, when the batch is big enough) and single upserts."""
    if len(contacts) < import_threshold:
        return [], list(contacts)
    groups: dict[tuple[int, ...], list[ContactWrite]] = {}
    upserts: list[ContactWrite] = []
    for contact in contacts:
        if contact.list_ids:
            groups.setdefault(contact.list_ids, []).append(contact)
        else:  # an import needs target lists (brevo.md 2.5)
            upserts.append(contact)
    imports = [
        ImportRequest(list_ids, tuple(members[start : start + IMPORT_ROWS_PER_REQUEST]))
        for list_ids, members in groups.items()
        for start in range(0, len(members), IMPORT_ROWS_PER_REQUEST)
    ]
    return imports, upserts


def plan_events(effects: Sequence[Effect]) -> list[Effect]:
    """The event effects, in order (the sender cuts them into requests by body size)."""
    return [e for e in effects if isinstance(e.command, SendEvent)]


def plan_emails(effects: Sequence[Effect]) -> list[EmailRequest]:
    """E-mail effects grouped per template, at most 1000 versions per request."""
    by_template: dict[int, list[Effect]] = {}
    for effect in effects:
        if isinstance(effect.command, SendTemplateEmail):
            by_template.setdefault(effect.command.template_id, []).append(effect)
    return [
        EmailRequest(template_id, tuple(group[start : start + VERSIONS_PER_REQUEST]))
        for template_id, group in by_template.items()
        for start in range(0, len(group), VERSIONS_PER_REQUEST)
    ]


def plan_batch(merged: Sequence[Merged], *, import_threshold: int) -> Plan:
    """Every request that delivers ``merged`` (the output of ``store.outbox.coalesce``)."""
    parsed = parse(merged)
    imports, upserts = plan_contacts(parsed.contacts, import_threshold)
    return Plan(
        tuple(imports),
        tuple(upserts),
        tuple(parsed.effects),
        tuple(parsed.malformed),
        tuple(parsed.campaigns),
    )
