"""A person's facts -> one Brevo contact (email + attributes), or a reason to skip them.

Pure: no I/O, no clock. The field mapping is ``logical key -> Brevo attribute name``
(``DEFAULT_FIELD_MAPPING``; the logical ``email`` is the contact's identifier, never an
attribute). Rules:

- **Names**: when the registration gave a first or last name, the registrant's names are
  used as they are; otherwise the Zoom display name is split (``split_display_name``).
- **Never blank**: a ``None`` or empty value is left out, never sent as ``""``, so an
  attribute Brevo already holds is not wiped by missing data. Zero is a value and is sent.
- **Formats**: dates as ``YYYY-MM-DD`` of the UTC day (Brevo date attributes accept nothing
  else, reference brevo.md 2.9); minutes rounded to 0.1, ratios to 0.001, the score to whole points.
- **Emails** are stripped, lower-cased and syntax-checked (``email-validator``, no DNS).
  People without a usable email (guests) and people whose domain is excluded come back as
  ``Skipped`` with a reason; they are counted, never mapped.
- **Excluded domains** match the domain itself and every subdomain: excluding
  ``example.com`` skips ``a@example.com`` and ``a@eu.example.com`` but not
  ``a@notexample.com``. Entries may be written ``@example.com`` or ``.example.com``.
- A logical key that is absent from the mapping, or mapped to ``""``, is not sent.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, get_args

from email_validator import EmailNotValidError, validate_email

from zoom_brevo.engagement.participation import Participation
from zoom_brevo.engagement.score import EngagementSummary
from zoom_brevo.errors import ConfigError
from zoom_brevo.zoom.registration_form import (
    ANSWER_PREFIXES,
    POLL_PREFIX,
    QUESTION_PREFIX,
    STANDARD_FIELDS,
    SURVEY_PREFIX,
)

AttendanceStatus = Literal["registered", "attended", "absent"]
ATTENDANCE_STATUSES: frozenset[str] = frozenset(get_args(AttendanceStatus))
BrevoType = Literal["text", "float", "date"]
AttributeValue = str | int | float

EMAIL_KEY = "email"
LOGICAL_TYPES: Mapping[str, BrevoType] = {
    "name": "text",
    "last_name": "text",
    "join_time": "date",
    "duration": "float",
    "webinar_title": "text",
    "occurrence": "text",
    "replay_watched": "date",
    "attendance_status": "text",
    "registration_source": "text",
    "attendance_ratio": "float",
    "attendance_percent": "float",
    "questions_asked": "float",
    "polls_answered": "float",
    "meetings_attended": "float",
    "total_minutes": "float",
    "last_attended": "date",
    "engagement_score": "float",
    **dict.fromkeys(STANDARD_FIELDS, "text"),
}
DEFAULT_FIELD_MAPPING: Mapping[str, str] = {
    EMAIL_KEY: "email",
    "name": "FIRSTNAME",
    "last_name": "LASTNAME",
    "join_time": "MEETING_JOIN_DATE",
    "duration": "MEETING_DURATION",
    "webinar_title": "WEBINAR_NAME",
    "occurrence": "ZOOM_LAST_OCCURRENCE",
    "replay_watched": "ZOOM_REPLAY_WATCHED",
    "attendance_status": "ATTENDANCE_STATUS",
    "registration_source": "UTM_SOURCE",
    "attendance_ratio": "ZOOM_ATTENDANCE_RATIO",
    "attendance_percent": "ZOOM_ATTENDANCE_PERCENT",
    "meetings_attended": "ZOOM_MEETINGS_ATTENDED",
    "total_minutes": "ZOOM_TOTAL_MINUTES",
    "last_attended": "ZOOM_LAST_ATTENDED",
    "engagement_score": "ZOOM_ENGAGEMENT_SCORE",
    # Per webinar, from its Q&A and poll reports: sent only when mapped (config).
    "questions_asked": "",
    "polls_answered": "",
    # The registration form's standard fields: sent only when mapped (config).
    **dict.fromkeys(STANDARD_FIELDS, ""),
}
_ATTRIBUTE_NAME = re.compile(r"[A-Z0-9_]+")


class SkipReason(StrEnum):
    """Why a person was not mapped to a Brevo contact."""

    NO_EMAIL = "no_email"
    INVALID_EMAIL = "invalid_email"
    EXCLUDED_DOMAIN = "excluded_domain"


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What is known about one person for one meeting or webinar (all optional but email)."""

    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    display_name: str | None = None
    join_time: datetime | None = None
    minutes: float | None = None
    webinar_title: str | None = None
    occurrence_id: str | None = None  # of the recurring meeting or webinar attended
    replay_watched: datetime | None = None  # first view of the recording, watched later
    attendance_status: AttendanceStatus | None = None
    registration_source: str | None = None
    attendance_ratio: float | None = None
    engagement: EngagementSummary | None = None
    answers: Mapping[str, str] | None = None  # zoom.registration_form keys -> answer
    participation: Participation | None = None  # in the webinar synced; None: unknown

    def __post_init__(self) -> None:
        if self.join_time is not None and self.join_time.utcoffset() is None:
            raise ValueError("join_time must be timezone-aware")
        status = self.attendance_status
        if status is not None and status not in ATTENDANCE_STATUSES:
            allowed = ", ".join(sorted(ATTENDANCE_STATUSES))
            raise ValueError(f"unknown attendance status {status!r}; expected one of {allowed}")


@dataclass(frozen=True, slots=True)
class MappedContact:
    """A Brevo contact: its email and the attributes to set (never empty values)."""

    email: str
    attributes: Mapping[str, AttributeValue]


@dataclass(frozen=True, slots=True)
class Skipped:
    """A person left out, why, and a message without personal data (safe to log)."""

    reason: SkipReason
    detail: str
    facts: PersonFacts


@dataclass(frozen=True, slots=True)
class MappingResult:
    """Contacts to send and people skipped."""

    contacts: tuple[MappedContact, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    skipped_by_reason: Mapping[SkipReason, int] = field(default_factory=dict)


def resolve_field_mapping(overrides: Mapping[str, str]) -> dict[str, str]:
    """The defaults updated with ``overrides``; attribute names upper-cased and checked.

    Raises ``ConfigError`` (key ``field_mapping.<key>``) for an unknown logical key, an
    attribute name Brevo would refuse, or two logical keys sharing one attribute.
    """
    merged = dict(DEFAULT_FIELD_MAPPING)
    for key, name in overrides.items():
        where = f"field_mapping.{key}"
        if keyed := _keyed_setting(key):
            where = keyed
        elif key not in DEFAULT_FIELD_MAPPING:
            known = ", ".join(DEFAULT_FIELD_MAPPING)
            raise ConfigError(f"unknown field {key!r}; known fields: {known}", key=where)
        if key == EMAIL_KEY:
            continue
        upper = (name or "").strip().upper()
        if upper and not _ATTRIBUTE_NAME.fullmatch(upper):
            raise ConfigError(
                f"{name!r} is not a Brevo attribute name (letters, digits and _ only)", key=where
            )
        merged[key] = upper
    _reject_shared_attributes(merged)
    return merged


_KEYED_SETTINGS: Mapping[str, str] = {
    QUESTION_PREFIX: "custom_questions",
    POLL_PREFIX: "poll_questions",
    SURVEY_PREFIX: "survey_questions",
}


def _keyed_setting(key: str) -> str | None:
    """``field_mapping.<setting>.<title>`` for a question's key, else ``None``."""
    for prefix, setting in _KEYED_SETTINGS.items():
        if key.startswith(prefix):
            return f"field_mapping.{setting}.{key.removeprefix(prefix)}"
    return None


def _reject_shared_attributes(mapping: Mapping[str, str]) -> None:
    owners: dict[str, str] = {}
    for key, name in mapping.items():
        if key == EMAIL_KEY or not name:
            continue
        if name in owners:
            raise ConfigError(
                f"{name} is already used for {owners[name]!r}",
                key=_keyed_setting(key) or f"field_mapping.{key}",
            )
        owners[name] = key


def attribute_definitions(field_mapping: Mapping[str, str]) -> dict[str, BrevoType]:
    """Brevo attribute name -> Brevo type for every mapped logical key (for setup-brevo)."""
    return {
        name: LOGICAL_TYPES.get(key, "text")
        for key, name in field_mapping.items()
        if (key in LOGICAL_TYPES or key.startswith(ANSWER_PREFIXES)) and name
    }


def split_display_name(display_name: str | None) -> tuple[str | None, str | None]:
    """First and last name guessed from a display name.

    Bracketed notes ("(she/her)", "[Acme]") and anything after " | " are dropped;
    "Doe, Jane" gives ("Jane", "Doe"); otherwise the first word is the first name and the
    rest the last name. Display names that are email addresses give no names.
    """
    text = re.sub(r"[(\[{][^)\]}]*[)\]}]", " ", display_name or "").split(" | ")[0]
    text = " ".join(text.split())
    if not text or "@" in text:
        return None, None
    if text.count(",") == 1:
        last, first = (part.strip() for part in text.split(","))
        return first or None, last or None
    first, _, last = text.partition(" ")
    return first or None, last or None


def contact_names(facts: PersonFacts) -> tuple[str | None, str | None]:
    """Registrant names when any was given, else names split from the display name."""
    first, last = _text(facts.first_name), _text(facts.last_name)
    if first or last:
        return first, last
    return split_display_name(facts.display_name)


def normalize_domains(domains: Iterable[str]) -> frozenset[str]:
    """Excluded domains lower-cased, without a leading ``@`` or ``.``; blanks dropped."""
    cleaned = (d.strip().lower().lstrip("@.") for d in domains)
    return frozenset(d for d in cleaned if d)


def is_excluded(domain: str, excluded: frozenset[str]) -> bool:
    """True when ``domain`` is an excluded domain or a subdomain of one."""
    domain = domain.lower()
    return any(domain == d or domain.endswith(f".{d}") for d in excluded)


# An unquoted ASCII local part (RFC 5322 dot-atom): email-validator accepts every one of
# these as it is, so only the domain needs its full check.
_DOT_ATOM = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_MAX_LOCAL, _MAX_ADDRESS = 64, 254  # RFC 5321 4.5.3.1, as email-validator enforces them


@functools.lru_cache(maxsize=4096)
def _check_domain(domain: str) -> tuple[str, str] | None:
    """``(domain, ascii_domain)`` as email-validator normalizes them, ``None`` if invalid."""
    try:
        valid = validate_email(f"x@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return valid.domain, valid.ascii_domain


def validated_email(text: str) -> tuple[str, str, str] | None:
    """``(normalized address, domain, ascii domain)`` of a lower-cased address, or ``None``.

    Same verdicts as ``email_validator.validate_email`` (without deliverability checks),
    which stays the judge of anything unusual; a plain address costs a regular expression
    and a domain check cached per domain (a 200,000-person webinar has a few domains).
    """
    local, at, domain = text.rpartition("@")
    plain = bool(at) and text.isascii() and len(local) <= _MAX_LOCAL and len(text) <= _MAX_ADDRESS
    if plain and _DOT_ATOM.fullmatch(local):
        checked = _check_domain(domain)
        return None if checked is None else (f"{local}@{checked[0]}", *checked)
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None
    return valid.normalized, valid.domain, valid.ascii_domain


def _check_email(raw: str | None, excluded: frozenset[str]) -> str | SkipReason:
    text = (raw or "").strip().lower()
    if not text:
        return SkipReason.NO_EMAIL
    valid = validated_email(text)
    if valid is None:
        return SkipReason.INVALID_EMAIL
    normalized, domain, ascii_domain = valid
    if is_excluded(domain, excluded) or is_excluded(ascii_domain, excluded):
        return SkipReason.EXCLUDED_DOMAIN
    return normalized.lower()


_SKIP_DETAILS = {
    SkipReason.NO_EMAIL: "no email address (guest outside the host's account?)",
    SkipReason.INVALID_EMAIL: "the email address is not valid",
    SkipReason.EXCLUDED_DOMAIN: "the email domain is excluded by connectors.zoom.exclude_domains",
}


def map_person(
    facts: PersonFacts,
    *,
    field_mapping: Mapping[str, str] = DEFAULT_FIELD_MAPPING,
    exclude_domains: Iterable[str] = (),
) -> MappedContact | Skipped:
    """The contact for ``facts``, or why it is skipped (rules in the module docstring)."""
    checked = _check_email(facts.email, normalize_domains(exclude_domains))
    if isinstance(checked, SkipReason):
        return Skipped(checked, _SKIP_DETAILS[checked], facts)
    values = logical_values(facts)
    attributes = {
        name: value
        for key, value in values.items()
        if value is not None and (name := field_mapping.get(key)) and key != EMAIL_KEY
    }
    return MappedContact(email=checked, attributes=attributes)


def map_people(
    people: Iterable[PersonFacts],
    *,
    field_mapping: Mapping[str, str] = DEFAULT_FIELD_MAPPING,
    exclude_domains: Iterable[str] = (),
) -> MappingResult:
    """``map_person`` over many people, with the skipped ones counted by reason."""
    excluded = tuple(normalize_domains(exclude_domains))
    contacts: list[MappedContact] = []
    skipped: list[Skipped] = []
    for facts in people:
        outcome = map_person(facts, field_mapping=field_mapping, exclude_domains=excluded)
        if isinstance(outcome, Skipped):
            skipped.append(outcome)
        else:
            contacts.append(outcome)
    counts = Counter(s.reason for s in skipped)
    return MappingResult(tuple(contacts), tuple(skipped), dict(counts))


def logical_values(facts: PersonFacts) -> dict[str, AttributeValue | None]:
    """Every logical key's formatted value (``None`` = unknown, not to be sent)."""
    first, last = contact_names(facts)
    engagement = facts.engagement
    return {
        "name": first,
        "last_name": last,
        "join_time": _date(facts.join_time),
        "duration": _round(facts.minutes, 1),
        "webinar_title": _text(facts.webinar_title),
        "occurrence": _text(facts.occurrence_id),
        "replay_watched": _date(facts.replay_watched),
        "attendance_status": facts.attendance_status,
        "registration_source": _text(facts.registration_source),
        "attendance_ratio": _ratio(facts.attendance_ratio),
        "attendance_percent": attendance_percent(facts.attendance_ratio),
        **_participation_values(facts.participation),
        **(_engagement_values(engagement) if engagement else {}),
        **{key: _text(value) for key, value in (facts.answers or {}).items()},
    }


def _participation_values(taken: Participation | None) -> dict[str, AttributeValue | None]:
    if taken is None:
        return {}
    return {
        "questions_asked": taken.questions,
        "polls_answered": taken.polls_answered,
        **{key: _text(answer) for key, answer in taken.answers.items()},
    }


def _engagement_values(summary: EngagementSummary) -> dict[str, AttributeValue | None]:
    return {
        "meetings_attended": summary.meetings_attended,
        "total_minutes": _round(summary.total_minutes, 1),
        "last_attended": _date(summary.last_attended),
        "engagement_score": _round(summary.score, 0),
    }


def _text(value: str | None) -> str | None:
    cleaned = " ".join((value or "").split())
    return cleaned or None


def _date(value: datetime | None) -> str | None:
    return value.astimezone(UTC).date().isoformat() if value is not None else None


def _round(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


def attendance_percent(ratio: float | None) -> int | None:
    """A ratio as a whole percentage 0-100 (what marketers segment and tier on).

    Rounded half up from the ratio as sent (three decimals), so 0.895 is 90 % in Brevo,
    never 89 on one attribute and 90 on the other.
    """
    clamped = _ratio(ratio)
    return None if clamped is None else (round(clamped * 1000) + 5) // 10


def _ratio(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(min(1.0, max(0.0, value)), 3)
