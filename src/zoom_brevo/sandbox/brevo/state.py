"""The emulated Brevo account: contacts, attributes, lists, folders, processes, events,
e-mails and campaigns, with the silent attribute filtering the real API applies.

Decisions where Brevo's behaviour is not documented (reference brevo.md 8.13 and 9):
- e-mail addresses are stored and looked up lower-cased (two casings are one contact);
- unknown attribute names and values of the wrong type are dropped without an error,
  as the spec says for ``POST /contacts`` and imports (brevo.md 8.1, 8.3);
- ``POST /events`` does not create contacts; ``contact_properties`` update an existing one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

EMAIL_RE = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso(now_s: float) -> str:
    """Brevo's timestamp format, UTC with milliseconds."""
    stamp = datetime.fromtimestamp(now_s, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# Which values each attribute type keeps (brevo.md 2.9); everything else is dropped.
TYPE_CHECKS: Mapping[str, Callable[[Any], bool]] = {
    "text": lambda v: isinstance(v, str),
    "float": _is_number,
    "date": _is_date,
    "boolean": lambda v: isinstance(v, bool),
    "id": lambda v: isinstance(v, str | int) and not isinstance(v, bool),
    "category": lambda v: isinstance(v, str | int) and not isinstance(v, bool),
    "multiple-choice": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


@dataclass
class Attribute:
    """A contact attribute definition."""

    name: str
    category: str
    type: str | None
    enumeration: list[dict[str, Any]] | None = None


@dataclass(slots=True)
class Contact:
    """A stored contact."""

    id: int
    email: str | None
    attributes: dict[str, Any]
    list_ids: set[int]
    created_at: str
    modified_at: str
    ext_id: str | None = None
    email_blacklisted: bool = False
    sms_blacklisted: bool = False


@dataclass
class Folder:
    """A contact folder."""

    id: int
    name: str


@dataclass
class ContactList:
    """A contact list; ``members`` holds contact ids."""

    id: int
    name: str
    folder_id: int
    created_at: str
    members: set[int] = field(default_factory=set)


@dataclass
class Process:
    """An asynchronous import; ``reports`` maps report kind to its rejected rows."""

    id: int
    created_s: float
    rows: list[Any]
    list_ids: list[int]
    update_existing: bool
    empty_attributes: bool
    status: str = "queued"
    name: str = "IMPORTUSER"
    reports: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    completed_at: str | None = None


@dataclass
class RecordedEvent:
    """An event as received, with its arrival order."""

    seq: int
    event_name: str
    identifiers: dict[str, Any]
    contact_properties: dict[str, Any] | None
    event_properties: dict[str, Any] | None
    event_date: str | None
    via_batch: bool
    contact_id: int | None = None  # the contact Brevo attributed it to, at receipt
    received_s: float = 0.0  # its date when ``event_date`` was not given


@dataclass
class SentEmail:
    """One transactional message (one per message version)."""

    message_id: str
    to: list[str]
    template_id: int | None
    subject: str | None
    params: dict[str, Any]
    idempotency_key: str | None


@dataclass
class Campaign:
    """An e-mail campaign; ``sent_to`` is filled by sendNow."""

    id: int
    name: str
    subject: str | None
    list_ids: list[int]
    template_id: int | None
    status: str = "draft"
    sent_to: list[str] = field(default_factory=list)


def default_attributes() -> dict[str, Attribute]:
    """The attributes a new Brevo account has (names in the English locale)."""
    return {
        name: Attribute(name=name, category="normal", type="text")
        for name in ("FIRSTNAME", "LASTNAME", "SMS")
    }


@dataclass
class Webhook:
    """A webhook as ``getWebhook`` shows it (official spec); ``auth``/``headers`` as given."""

    id: int
    url: str
    description: str
    events: list[str]
    type: str
    created_at: str
    modified_at: str
    batched: bool = False
    auth: dict[str, Any] | None = None
    headers: list[dict[str, str]] = field(default_factory=list)


LIST_ADDITION = "listAddition"


@dataclass
class BrevoState:
    """Everything the emulated account holds. Tests may read and seed it directly."""

    contacts: dict[int, Contact] = field(default_factory=dict)
    by_email: dict[str, int] = field(default_factory=dict)
    attributes: dict[str, Attribute] = field(default_factory=default_attributes)
    folders: dict[int, Folder] = field(default_factory=dict)
    lists: dict[int, ContactList] = field(default_factory=dict)
    processes: dict[int, Process] = field(default_factory=dict)
    events: list[RecordedEvent] = field(default_factory=list)
    emails: list[SentEmail] = field(default_factory=list)
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    idempotency_keys: dict[str, float] = field(default_factory=dict)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    # (contact id, list id) entries not yet announced to the ``listAddition`` webhooks;
    # recorded only while such a webhook exists (``webhooks_api.ListAdditionNotifier``).
    list_additions: list[tuple[int, int]] = field(default_factory=list)
    _next_id: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str) -> int:
        """A fresh id for ``kind`` (ids start at 1 per kind)."""
        self._next_id[kind] = self._next_id.get(kind, 0) + 1
        return self._next_id[kind]

    def contact(self, email: str) -> Contact | None:
        """The contact with this e-mail (case-insensitive)."""
        contact_id = self.by_email.get(email.lower())
        return None if contact_id is None else self.contacts[contact_id]

    def clean_attributes(self, raw: Any, *, keep_empty: bool = True) -> dict[str, Any]:
        """``raw`` without unknown names and wrongly typed values (silently, as Brevo does)."""
        if not isinstance(raw, Mapping):
            return {}
        kept: dict[str, Any] = {}
        for name, value in raw.items():
            attribute = self.attributes.get(name)
            if attribute is None or attribute.type is None:
                continue
            if value is None or value == "":
                if keep_empty:
                    kept[name] = None
                continue
            if TYPE_CHECKS.get(attribute.type, lambda _v: False)(value):
                kept[name] = value
        return kept

    def create_contact(
        self,
        email: str | None,
        attributes: dict[str, Any],
        now_s: float,
        ext_id: str | None,
        stamp: str | None = None,
    ) -> Contact:
        """Store a new contact (``stamp``: precomputed ``iso(now_s)`` for bulk work)."""
        stamp = stamp or iso(now_s)
        contact = Contact(
            id=self.next_id("contact"),
            email=email.lower() if email else None,
            attributes={k: v for k, v in attributes.items() if v is not None},
            list_ids=set(),
            created_at=stamp,
            modified_at=stamp,
            ext_id=ext_id,
        )
        self.contacts[contact.id] = contact
        if contact.email:
            self.by_email[contact.email] = contact.id
        return contact

    def update_contact(
        self, contact: Contact, attributes: dict[str, Any], now_s: float, stamp: str | None = None
    ) -> None:
        """Merge attributes (``None`` erases) and touch ``modifiedAt``."""
        for name, value in attributes.items():
            if value is None:
                contact.attributes.pop(name, None)
            else:
                contact.attributes[name] = value
        contact.modified_at = stamp or iso(now_s)

    def link(self, contact: Contact, list_id: int) -> bool:
        """Put ``contact`` in a list; ``False`` if it was already there."""
        if list_id in contact.list_ids:
            return False
        contact.list_ids.add(list_id)
        self.lists[list_id].members.add(contact.id)
        if any(LIST_ADDITION in w.events for w in self.webhooks.values()):
            self.list_additions.append((contact.id, list_id))
        return True

    def delete_contact(self, contact: Contact) -> None:
        """Remove a contact and its memberships."""
        for list_id in contact.list_ids:
            self.lists[list_id].members.discard(contact.id)
        if contact.email:
            self.by_email.pop(contact.email, None)
        del self.contacts[contact.id]

    def members(self, list_id: int) -> list[Contact]:
        """Contacts in a list."""
        return [self.contacts[cid] for cid in sorted(self.lists[list_id].members)]
