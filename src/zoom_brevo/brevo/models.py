"""Typed shapes of what the Brevo client returns and accepts (getbrevo/brevo-go swagger)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ProcessState = Literal["queued", "in_process", "processing", "completed", "failed", "cancelled"]

# Keys of ``info.import`` in a completed IMPORTUSER process (brevo.md 2.5), each a CSV URL.
IMPORT_REPORT_KINDS: tuple[str, ...] = (
    "invalid_emails",
    "duplicate_contact_id",
    "duplicate_ext_id",
    "duplicate_email_id",
    "duplicate_phone_id",
    "duplicate_whatsapp_id",
    "duplicate_landline_number_id",
)


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class Plan(_Model):
    """One of the account's plans and its credits."""

    type: str
    credits_type: str = Field(alias="creditsType")
    credits: float


class Account(_Model):
    """``GET /account``: who owns the key and what they may send."""

    email: str
    first_name: str = Field(alias="firstName")
    last_name: str = Field(alias="lastName")
    company_name: str = Field(alias="companyName")
    plan: list[Plan] = Field(default_factory=list)


class Attribute(_Model):
    """A contact attribute; ``type`` is absent for category/calculated attributes."""

    name: str
    category: str
    type: str | None = None


class Folder(_Model):
    """A contact folder (lists live in folders)."""

    id: int
    name: str


class ContactList(_Model):
    """A contact list and the folder holding it."""

    id: int
    name: str
    folder_id: int = Field(alias="folderId")
    total_subscribers: int = Field(default=0, alias="totalSubscribers")


class Webhook(_Model):
    """A webhook of the account (``getWebhook``; its ``auth`` is not kept)."""

    id: int
    url: str
    events: list[str] = Field(default_factory=list)
    type: str = ""
    description: str = ""


class Contact(_Model):
    """``GET /contacts/{identifier}``."""

    id: int
    email: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    list_ids: list[int] = Field(default_factory=list, alias="listIds")
    email_blacklisted: bool = Field(default=False, alias="emailBlacklisted")
    modified_at: str | None = Field(default=None, alias="modifiedAt")
    """When Brevo last changed the contact (UTC ISO 8601, milliseconds)."""


class Process(_Model):
    """``GET /processes/{id}`` or an item of ``GET /processes``; ``import_reports`` maps
    report kind to its CSV URL."""

    id: int
    name: str
    status: ProcessState
    import_reports: dict[str, str] = Field(default_factory=dict)

    @property
    def done(self) -> bool:
        """No further change will happen to this process."""
        return self.status in ("completed", "failed", "cancelled")


class RejectedRow(_Model):
    """One row Brevo refused in an import, from a report CSV."""

    reason: str
    email: str | None
    row: dict[str, str]


class ListAddResult(_Model):
    """Who was added to a list and who was not (already a member, or unknown)."""

    success: list[str] = Field(default_factory=list)
    failure: list[str] = Field(default_factory=list)


class ListedEvent(_Model):
    """A custom event as ``GET /events`` lists it (docs/brevo-events-listing.md)."""

    contact_id: int | None = None
    event_name: str
    event_date: str | None = None
    event_properties: dict[str, Any] | None = None


class Event(_Model):
    """A custom event (``POST /events``), reference brevo.md 3.1."""

    event_name: str
    identifiers: dict[str, str | int]
    event_date: str | None = None
    contact_properties: dict[str, Any] | None = None
    event_properties: dict[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        """The JSON body Brevo expects (unset fields omitted)."""
        return self.model_dump(exclude_none=True)


class EventFailure(_Model):
    """An event of a batch that Brevo refused, by its index in the caller's sequence."""

    index: int
    message: str


class EventsResult(_Model):
    """Outcome of sending many events: how many were accepted, which were refused, and
    how many HTTP requests it took."""

    accepted: int = 0
    failures: list[EventFailure] = Field(default_factory=list)
    requests: int = 0


class Recipient(_Model):
    """An e-mail recipient."""

    email: str
    name: str | None = None


class MessageVersion(_Model):
    """One personalised version of a transactional e-mail (brevo.md 4.1)."""

    to: list[Recipient]
    params: dict[str, Any] | None = None
    subject: str | None = None


class SendResult(_Model):
    """Message ids Brevo returned; ``duplicate_keys`` were already sent within 30 minutes."""

    message_ids: list[str] = Field(default_factory=list)
    duplicate_keys: list[str] = Field(default_factory=list)
