"""What every handler and job shares: the options the configuration gives, and helpers.

Handlers run inside the transaction that marks their inbox row processed; they write facts,
outbox commands and jobs on that connection and never call Zoom or Brevo themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.engine import Connection

from zoom_brevo.pipeline.commands import Command, SendEvent
from zoom_brevo.pipeline.derive import iso
from zoom_brevo.pipeline.gather import effects_known
from zoom_brevo.pipeline.mapping import DEFAULT_FIELD_MAPPING, PersonFacts, Skipped, map_person
from zoom_brevo.pipeline.sync import SyncOptions
from zoom_brevo.registration.run import AutoRegistration
from zoom_brevo.store import facts, outbox

RecordingsMode = Literal["event", "transactional", "campaign", "off"]


class GiveUp(Exception):
    """Retrying cannot help: the job is dead-lettered with this message."""


@dataclass(frozen=True, slots=True)
class RecordingOptions:
    """``brevo.recordings``: how a recording link reaches people."""

    mode: RecordingsMode = "event"
    template_id: int | None = None
    sender_name: str | None = None
    sender_email: str | None = None


@dataclass(frozen=True, slots=True)
class HandlerOptions:
    """The configuration the handlers and jobs need, as plain values."""

    lists: Mapping[str, int] = field(default_factory=dict)
    field_mapping: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELD_MAPPING))
    exclude_domains: tuple[str, ...] = ()
    collect_delay_s: float = 300.0
    reconcile_after_s: float = 86400.0
    sweep_interval_s: float = 3600.0  # 0 = no sweep
    sweep_days: int = 2
    recordings: RecordingOptions = RecordingOptions()
    participants: bool = True  # connectors.zoom.sync.participants
    webinars: bool = True  # connectors.zoom.sync.webinars
    tiers: tuple[int, ...] = ()  # connectors.zoom.sync.attendance_tiers
    replay_days: int = 7  # connectors.zoom.sync.replay_days (0 = off)
    # The Zoom account served (connectors.zoom.account_id): app_deauthorized of any other
    # account changes nothing (handlers.deauthorization).
    account_id: str = ""
    # connectors.zoom.registration: lists whose members are registered into webinars
    # (handlers.register_poll).
    registration: AutoRegistration = field(default_factory=AutoRegistration)

    def sync_options(self) -> SyncOptions:
        """Options for the pipeline's sync (live webhooks always send events)."""
        return SyncOptions(
            lists=self.lists,
            field_mapping=self.field_mapping,
            exclude_domains=self.exclude_domains,
            events=True,
            tiers=self.tiers,
        )


@dataclass(frozen=True, slots=True)
class Context:
    """One handler call: the transaction's connection, the options and ``now``."""

    conn: Connection
    options: HandlerOptions
    now: datetime


def usable_email(raw: str | None, options: HandlerOptions) -> str | None:
    """The normalised address Brevo may receive, ``None`` for guests and excluded domains."""
    mapped = map_person(
        PersonFacts(email=raw),
        field_mapping=options.field_mapping,
        exclude_domains=options.exclude_domains,
    )
    return None if isinstance(mapped, Skipped) else mapped.email


def properties(values: Mapping[str, Any]) -> dict[str, Any]:
    """Event properties without unknown (``None`` or blank) values."""
    return {k: v for k, v in values.items() if v not in (None, "")}


def instance_properties(instance: facts.Instance) -> dict[str, Any]:
    """The properties every instance event carries (like ``derive``'s events)."""
    return properties(
        {
            f"{instance.kind}_id": str(instance.meeting_id),
            "uuid": instance.uuid,
            "occurrence_id": instance.occurrence_id,
            "topic": instance.topic,
            "start_time": iso(instance.start_time),
            "end_time": iso(instance.end_time),
        }
    )


def new_events(conn: Connection, events: Sequence[SendEvent]) -> list[SendEvent]:
    """``events`` minus those already sent or waiting in the outbox (never send twice)."""
    known = effects_known(conn, [e.ledger_key for e in events])
    fresh: dict[str, SendEvent] = {}
    for event in events:
        if event.ledger_key not in known:
            fresh.setdefault(event.ledger_key, event)
    return list(fresh.values())


def enqueue(conn: Connection, commands: Iterable[Command], *, now: datetime) -> int:
    """Queue ``commands`` in the outbox; return how many."""
    rows = [outbox.NewCommand(c.kind, c.to_payload(), c.coalescing_key) for c in commands]
    return outbox.add_many(conn, rows, now=now)
