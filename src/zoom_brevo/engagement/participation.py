"""Webinar participation per person: questions asked (Q&A) and polls answered.

Inputs are flat, vendor-neutral records. From Zoom's reports:

- ``GET /report/webinars/{webinarId}/qa``: one ``QuestionAsked`` per item of
  ``questions[].question_details[]``, with the parent's ``email`` and the item's
  ``question_id`` (leave out items whose ``question_status`` is ``deleted``).
- ``GET /report/webinars/{webinarId}/polls`` (or ``/past_webinars/{id}/polls``): one
  ``PollAnswer`` per item of ``questions[].question_details[]``, with the parent's ``email``
  and the item's ``polling_id``.

Counting is per lower-cased, stripped email; records without an email (people outside the
host's account, anonymous Q&A or polls) are not attributable and are ignored. A question
is counted once per ``question_id`` and a poll once per ``poll_id`` however many of its
questions were answered, so re-reading a report changes nothing. Records without an id
count one each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from zoom_brevo.engagement.identity import clean, normalize_email

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QuestionAsked:
    """One question a person asked in the Q&A."""

    email: str | None
    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class PollAnswer:
    """One answer a person gave to a question of a poll."""

    email: str | None
    poll_id: str | None = None


@dataclass(frozen=True, slots=True)
class Participation:
    """How much one person took part in one webinar."""

    questions: int = 0
    polls_answered: int = 0

    @property
    def total(self) -> int:
        """Questions plus polls answered."""
        return self.questions + self.polls_answered


def _distinct_per_email(
    records: Iterable[T], email: Callable[[T], str | None], ident: Callable[[T], str | None]
) -> dict[str, int]:
    seen: dict[str, set[str]] = defaultdict(set)
    anonymous: dict[str, int] = defaultdict(int)
    for record in records:
        address = normalize_email(email(record))
        if not address:
            continue
        if key := clean(ident(record)):
            seen[address].add(key)
        else:
            anonymous[address] += 1
    return {a: len(seen[a]) + anonymous[a] for a in seen.keys() | anonymous.keys()}


def count_participation(
    questions: Iterable[QuestionAsked] = (), poll_answers: Iterable[PollAnswer] = ()
) -> dict[str, Participation]:
    """Participation per lower-cased email (see the module docstring)."""
    asked = _distinct_per_email(questions, lambda q: q.email, lambda q: q.question_id)
    polled = _distinct_per_email(poll_answers, lambda p: p.email, lambda p: p.poll_id)
    return {
        address: Participation(asked.get(address, 0), polled.get(address, 0))
        for address in sorted(asked.keys() | polled.keys())
    }
