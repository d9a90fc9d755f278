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

The last answer per question (``LastAnswers``): of a person's answers to one question (a
poll relaunched, a survey answered twice), the one with the latest ``date_time`` wins; an
answer without a time loses to one with a time, and among equals the later in the report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from zoom_brevo.engagement.identity import clean, normalize_email


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
    # The last answers to the mapped poll and survey questions: zoom.registration_form
    # keys (``poll:<title>``, ``survey:<title>``) -> answer.
    answers: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def total(self) -> int:
        """Questions plus polls answered."""
        return self.questions + self.polls_answered


class Tally:
    """Distinct ids per lower-cased email, fed one record at a time (a report is streamed)."""

    def __init__(self) -> None:
        self._seen: dict[str, set[str]] = defaultdict(set)
        self._anonymous: dict[str, int] = defaultdict(int)

    def add(self, email: str | None, ident: str | None) -> None:
        """Count ``ident`` for ``email``; a record without an email is not attributable."""
        address = normalize_email(email)
        if not address:
            return
        if key := clean(ident):
            self._seen[address].add(key)
        else:
            self._anonymous[address] += 1

    def counts(self) -> dict[str, int]:
        """The number of distinct ids (plus records without one) per email."""
        seen, anonymous = self._seen, self._anonymous
        return {a: len(seen.get(a, ())) + anonymous.get(a, 0) for a in seen.keys() | anonymous}


class LastAnswers:
    """The latest answer per (lower-cased email, question key), fed one record at a time."""

    def __init__(self) -> None:
        self._held: dict[str, dict[str, tuple[datetime | None, str]]] = defaultdict(dict)

    def add(self, email: str | None, key: str, answer: str | None, at: datetime | None) -> None:
        """Keep ``answer`` unless the person answered ``key`` later (see the module docstring)."""
        address, text = normalize_email(email), clean(answer)
        if not address or not text:
            return
        held = self._held[address].get(key)
        if held is None or _not_later(held[0], at):
            self._held[address][key] = (at, text)

    def answers(self) -> dict[str, dict[str, str]]:
        """Question key -> last answer, per email."""
        return {a: {k: v for k, (_, v) in keys.items()} for a, keys in self._held.items()}


def _not_later(held: datetime | None, new: datetime | None) -> bool:
    if new is None:
        return held is None
    return held is None or held <= new


def combine(
    asked: Mapping[str, int],
    polled: Mapping[str, int],
    answers: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Participation]:
    """Participation per email from the two tallies' counts and the last answers."""
    said = answers or {}
    return {
        address: Participation(asked.get(address, 0), polled.get(address, 0), said.get(address, {}))
        for address in sorted(asked.keys() | polled.keys() | said.keys())
    }


def count_participation(
    questions: Iterable[QuestionAsked] = (), poll_answers: Iterable[PollAnswer] = ()
) -> dict[str, Participation]:
    """Participation per lower-cased email (see the module docstring)."""
    asked, polled = Tally(), Tally()
    for question in questions:
        asked.add(question.email, question.question_id)
    for answer in poll_answers:
        polled.add(answer.email, answer.poll_id)
    return combine(asked.counts(), polled.counts())
