"""What a delivery run did, for the CLI summary, the demo and benchmarks."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class DeliveryReport:
    """Counters of one ``drain`` (or of a ``run`` so far).

    ``brevo_calls`` counts the API requests the worker issued (a request the client retried
    by itself counts once); ``outstanding`` is what was left queued when ``drain`` returned.
    """

    batches: int = 0
    contacts_upserted: int = 0
    contacts_imported: int = 0
    list_adds: int = 0
    events_sent: int = 0
    emails_sent: int = 0
    skipped_already_sent: int = 0
    in_doubt_checked: int = 0  # events of in-doubt batches looked up at Brevo
    in_doubt_found: int = 0  # ... that Brevo already held (completed, not sent again)
    held_in_doubt: int = 0  # ... that could not be looked up and were held
    retried: int = 0
    deferred: int = 0
    rejected: int = 0
    dead: int = 0
    imports_started: int = 0
    imports_completed: int = 0
    import_rejections: int = 0
    brevo_calls: int = 0
    outstanding: int = 0
    pending_imports: int = 0

    def to_json(self) -> dict[str, int]:
        """The counters as a JSON object."""
        return asdict(self)
