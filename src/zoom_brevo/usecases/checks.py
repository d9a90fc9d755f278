"""What ``zoom-brevo check`` verifies, as data: credentials, attributes and lists, and
each ``connectors.zoom.registration.from_lists`` entry (its Brevo list exists, its Zoom
webinar exists and takes registration, its occurrence is one still to come).

:func:`run_check` talks to Zoom and Brevo; :func:`compare_brevo` is the pure comparison of
what the configuration needs with what the Brevo account has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from zoom_brevo.config import Settings
from zoom_brevo.config.settings import ListRegistration
from zoom_brevo.errors import ApiError, NotFound
from zoom_brevo.ratelimit import RateLimiter
from zoom_brevo.wiring import brevo_client, zoom_client
from zoom_brevo.zoom.client import ZoomClient

SETUP_HINT = "run `zoom-brevo setup-brevo` to create them"
# A check should answer within seconds, not wait out long rate-limit pauses.
_CHECK_MAX_WAIT_S = 10.0
_CHECK_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class ServiceCheck:
    """Outcome of one credentials check; ``detail`` says what was verified or what failed."""

    ok: bool
    detail: str
    skipped: bool = False


@dataclass(frozen=True)
class BrevoNeeds:
    """Brevo attributes and lists the configuration needs, split into present and missing."""

    attributes_present: list[str] = field(default_factory=list)
    attributes_missing: list[str] = field(default_factory=list)
    lists_present: dict[str, int] = field(default_factory=dict)
    lists_missing: dict[str, int] = field(default_factory=dict)
    lists_known: frozenset[int] = frozenset()  # every list id of the account


@dataclass(frozen=True)
class CheckReport:
    """Everything ``check`` learnt; ``needs`` is ``None`` when Brevo could not be asked."""

    zoom: ServiceCheck
    brevo: ServiceCheck
    zoom_scopes: list[str] = field(default_factory=list)
    needs: BrevoNeeds | None = None
    # One phrase per problem of a ``registration.from_lists`` entry, led by its key.
    registration: list[str] = field(default_factory=list)
    registration_entries: int = 0  # how many entries were checked

    @property
    def ok(self) -> bool:
        """All credentials work and nothing the configuration names is missing."""
        missing = self.needs is not None and bool(
            self.needs.attributes_missing or self.needs.lists_missing
        )
        return self.zoom.ok and self.brevo.ok and not missing and not self.registration

    def problems(self) -> list[str]:
        """One phrase per problem, in the order a user should fix them."""
        # Details are whole sentences; the phrases are joined with "; " (no ".;").
        found = [f"Zoom credentials: {self.zoom.detail.rstrip('.')}"] if not self.zoom.ok else []
        if not self.brevo.ok:
            found.append(f"Brevo API key: {self.brevo.detail.rstrip('.')}")
        if self.needs and self.needs.attributes_missing:
            names = ", ".join(self.needs.attributes_missing)
            found.append(f"missing Brevo attributes {names}: {SETUP_HINT}")
        if self.needs and self.needs.lists_missing:
            lists = ", ".join(f"{i} ({role})" for role, i in self.needs.lists_missing.items())
            found.append(
                f"missing Brevo lists {lists}: fix connectors.zoom.lists"
                " or run `zoom-brevo setup-brevo`"
            )
        return found + self.registration

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready document."""
        return {
            "ok": self.ok,
            "zoom": {**asdict(self.zoom), "scopes": self.zoom_scopes},
            "brevo": asdict(self.brevo),
            "attributes": {
                "present": self.needs.attributes_present if self.needs else None,
                "missing": self.needs.attributes_missing if self.needs else None,
            },
            "lists": {
                "present": self.needs.lists_present if self.needs else None,
                "missing": self.needs.lists_missing if self.needs else None,
            },
            "registration": {"entries": self.registration_entries, "problems": self.registration},
            "problems": self.problems(),
        }


def compare_brevo(
    wanted_attributes: Iterable[str],
    wanted_lists: Mapping[str, int],
    existing_attributes: Iterable[str],
    existing_lists: Iterable[int],
) -> BrevoNeeds:
    """Split what is wanted into present and missing (attribute names ignore case)."""
    have_attributes = {name.upper() for name in existing_attributes}
    have_lists = set(existing_lists)
    wanted = list(dict.fromkeys(wanted_attributes))
    return BrevoNeeds(
        attributes_present=[a for a in wanted if a.upper() in have_attributes],
        attributes_missing=[a for a in wanted if a.upper() not in have_attributes],
        lists_present={role: i for role, i in wanted_lists.items() if i in have_lists},
        lists_missing={role: i for role, i in wanted_lists.items() if i not in have_lists},
        lists_known=frozenset(have_lists),
    )


async def run_check(settings: Settings, limiter: RateLimiter) -> CheckReport:
    """Fetch a Zoom token, test the Brevo key and compare attributes and lists.

    The calls spend ``limiter``: the account-wide budget the other processes share.
    """
    zoom, scopes = await check_zoom(settings, limiter)
    brevo, needs = await check_brevo(settings, limiter)
    known = needs.lists_known if needs is not None else None
    registration = await check_registration(settings, limiter, zoom, known)
    return CheckReport(
        zoom=zoom,
        brevo=brevo,
        zoom_scopes=scopes,
        needs=needs,
        registration=registration,
        registration_entries=len(settings.connectors.zoom.registration.from_lists),
    )


async def check_zoom(settings: Settings, limiter: RateLimiter) -> tuple[ServiceCheck, list[str]]:
    """Fetch a Server-to-Server token; report its scopes."""
    config = settings.connectors.zoom
    if not config.enabled:
        return ServiceCheck(ok=True, detail="connector disabled (not checked)", skipped=True), []
    client = zoom_client(
        settings, limiter, max_wait_s=_CHECK_MAX_WAIT_S, timeout_s=_CHECK_TIMEOUT_S
    )
    try:
        async with client:
            info = await client.verify_credentials()
    except ApiError as exc:
        return ServiceCheck(ok=False, detail=str(exc)), []
    scopes = sorted(info.scope.split())
    detail = f"token OK (expires in {info.expires_in_s} s)"
    return ServiceCheck(ok=True, detail=detail), scopes


async def check_brevo(
    settings: Settings, limiter: RateLimiter
) -> tuple[ServiceCheck, BrevoNeeds | None]:
    """Test the API key, then compare the attributes and lists the configuration names."""
    client = brevo_client(
        settings, limiter, timeout_s=_CHECK_TIMEOUT_S, max_wait_s=_CHECK_MAX_WAIT_S
    )
    try:
        async with client:
            account = await client.get_account()
            attributes = [a.name for a in await client.list_attributes()]
            lists = [entry.id for entry in await client.list_lists()]
    except ApiError as exc:
        return ServiceCheck(ok=False, detail=str(exc)), None
    detail = f"account OK ({account.company_name or 'no company name'})"
    needs = compare_brevo(
        settings.field_mapping.attributes().values(),
        settings.connectors.zoom.lists.ids(),
        attributes,
        lists,
    )
    return ServiceCheck(ok=True, detail=detail), needs


REGISTRATION_KEY = "connectors.zoom.registration.from_lists"


async def check_registration(
    settings: Settings, limiter: RateLimiter, zoom: ServiceCheck, lists: frozenset[int] | None
) -> list[str]:
    """The problems of each ``from_lists`` entry, led by its key: a Brevo list the account
    lacks (``lists``: its ids, ``None`` when Brevo could not be asked), a webinar Zoom does
    not know or that takes no registration, an occurrence not to come. Zoom is asked only
    when its credentials work (``zoom``), once per webinar."""
    entries = settings.connectors.zoom.registration.from_lists
    found = [
        f"{REGISTRATION_KEY}[{i}]: Brevo has no list {e.list_id} (Brevo > Contacts > Lists,"
        " the ID column)"
        for i, e in enumerate(entries)
        if lists is not None and e.list_id not in lists
    ]
    if not entries or not zoom.ok or zoom.skipped:
        return found
    client = zoom_client(
        settings, limiter, max_wait_s=_CHECK_MAX_WAIT_S, timeout_s=_CHECK_TIMEOUT_S
    )
    async with client:
        for i, entry in enumerate(entries):
            problem = await _webinar_problem(client, entry)
            if problem:
                found.append(f"{REGISTRATION_KEY}[{i}]: {problem}")
    return found


async def _webinar_problem(client: ZoomClient, entry: ListRegistration) -> str | None:
    """Why people cannot be registered into the entry's webinar or meeting; ``None`` when
    they can."""
    what = f"{entry.kind} {entry.zoom_id}"
    try:
        found = await client.scheduled(entry.kind, entry.zoom_id)
    except NotFound:
        return f"Zoom has no {what} (the number in its join link; the app's account must host it)"
    except ApiError as exc:
        return f"{what} could not be read: {str(exc).rstrip('.')}"
    if not found.takes_registration:
        return f"{what} takes no registration: in Zoom, edit it and tick Registration > Required"
    upcoming = {o.occurrence_id for o in found.occurrences}
    if entry.occurrence_id is not None and entry.occurrence_id not in upcoming:
        listed = ", ".join(sorted(upcoming)) or "none: it does not recur or is over"
        occurrence = entry.occurrence_id
        return f"{what} has no occurrence {occurrence} to come (its occurrences: {listed})"
    return None
