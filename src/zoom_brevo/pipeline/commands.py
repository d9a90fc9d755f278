"""Brevo commands: what the pipeline asks the delivery worker to do, as outbox payloads.

The pipeline derives commands from Zoom facts; the outbox stores them as JSON; the delivery
worker coalesces and sends them. Every command knows its outbox ``kind`` and its coalescing
key; effects that must happen once (events, emails) carry a ``ledger_key`` that the worker
records before reporting success, so a replay sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

AttributeValue = str | float | int | bool
CommandKind = Literal["contact", "event", "email", "campaign_list", "campaign"]


class _Payload:
    """What every command stores in the outbox: its fields but ``kind``, as JSON holds them."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]  # set by @dataclass on each command

    def to_payload(self) -> dict[str, Any]:
        """JSON-safe outbox payload."""
        names = type(self).__dataclass_fields__  # not fields(): its filtering costs more
        return {name: _json_safe(getattr(self, name)) for name in names if name != "kind"}


class _Once(_Payload):
    """A command whose effect happens once: keyed by its ``ledger_key``, never merged."""

    __slots__ = ()
    kind: str
    ledger_key: str

    @property
    def coalescing_key(self) -> str:
        """One key per effect: ``kind:ledger_key``."""
        return f"{self.kind}:{self.ledger_key}"


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(frozen=True, slots=True)
class UpsertContact(_Payload):
    """Create or update a contact's attributes and add it to lists (additive, never blanks)."""

    email: str
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    list_ids: tuple[int, ...] = ()

    kind: Literal["contact"] = "contact"

    @property
    def coalescing_key(self) -> str:
        """Commands for the same contact merge: latest value per attribute, lists unioned."""
        return f"contact:{self.email}"


@dataclass(frozen=True, slots=True)
class SendEvent(_Once):
    """A Brevo event (``POST /v3/events``) that may start an automation; sent at most once."""

    event_name: str
    email: str
    ledger_key: str
    event_properties: Mapping[str, Any] = field(default_factory=dict)
    event_date: str | None = None

    kind: Literal["event"] = "event"


@dataclass(frozen=True, slots=True)
class SendTemplateEmail(_Once):
    """One transactional template email to one recipient (batched into messageVersions)."""

    template_id: int
    email: str
    ledger_key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    kind: Literal["email"] = "email"


@dataclass(frozen=True, slots=True)
class CreateCampaignList(_Once):
    """Create the list a recording campaign goes to (in the first folder); once.

    The list's id is recorded under ``ledger_key`` (detail ``list_id``).
    """

    name: str
    ledger_key: str

    kind: Literal["campaign_list"] = "campaign_list"


@dataclass(frozen=True, slots=True)
class SendCampaign(_Once):
    """Create an e-mail campaign from a template to ``list_ids`` and send it now; once.

    ``created_key`` records the campaign's id once created (a retry of the send does not
    create a second one); ``ledger_key`` records that it was sent.
    """

    name: str
    subject: str
    sender: Mapping[str, str]
    template_id: int
    list_ids: tuple[int, ...]
    created_key: str
    ledger_key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    kind: Literal["campaign"] = "campaign"


CampaignCommand = CreateCampaignList | SendCampaign
Command = UpsertContact | SendEvent | SendTemplateEmail | CreateCampaignList | SendCampaign


def command_from_payload(kind: str, payload: Mapping[str, Any]) -> Command:
    """Rebuild a command from its outbox row; ``ValueError`` for an unknown kind."""
    if kind == "contact":
        return UpsertContact(
            email=payload["email"],
            attributes=dict(payload.get("attributes", {})),
            list_ids=tuple(payload.get("list_ids", ())),
        )
    if kind == "event":
        return SendEvent(
            event_name=payload["event_name"],
            email=payload["email"],
            ledger_key=payload["ledger_key"],
            event_properties=dict(payload.get("event_properties", {})),
            event_date=payload.get("event_date"),
        )
    if kind == "email":
        return SendTemplateEmail(
            template_id=int(payload["template_id"]),
            email=payload["email"],
            ledger_key=payload["ledger_key"],
            params=dict(payload.get("params", {})),
        )
    if kind == "campaign_list":
        return CreateCampaignList(name=str(payload["name"]), ledger_key=payload["ledger_key"])
    if kind == "campaign":
        return SendCampaign(
            name=str(payload["name"]),
            subject=str(payload["subject"]),
            sender=dict(payload["sender"]),
            template_id=int(payload["template_id"]),
            list_ids=tuple(int(i) for i in payload["list_ids"]),
            created_key=payload["created_key"],
            ledger_key=payload["ledger_key"],
            params=dict(payload.get("params", {})),
        )
    raise ValueError(f"unknown outbox command kind: {kind!r}")
