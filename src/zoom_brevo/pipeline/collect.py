"""The I/O shell between Zoom and the store: pages in, facts out, in bounded chunks.

Each function streams one Zoom listing and writes it in short transactions of
``chunk_size`` rows, so memory does not grow with the meeting and no transaction is held
open across HTTP calls. Participant rows go to the staging area (``staging``) until the
final transaction switches them in; registrants are upserts and go straight to the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

import structlog
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.engagement import LastAnswers, Participation, Tally, combine
from zoom_brevo.errors import NotReady, RetriableApiError
from zoom_brevo.pipeline import rows as convert
from zoom_brevo.pipeline import staging
from zoom_brevo.store import facts
from zoom_brevo.store.engine import transaction
from zoom_brevo.zoom.models import Participant, PollEntry, QAEntry, Registrant, SurveyEntry
from zoom_brevo.zoom.registration_form import POLL_PREFIX, SURVEY_PREFIX, question_key
from zoom_brevo.zoom.reports import Report

log = structlog.get_logger(__name__)
T = TypeVar("T")
DEFAULT_CHUNK = 1000
REPORT_READS = 3
"""Times a report is read before a connection lost mid-body is given up on."""


async def chunked(items: AsyncIterator[T], size: int) -> AsyncIterator[list[T]]:
    """``items`` in lists of at most ``size``."""
    batch: list[T] = []
    async for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def collect_participants(
    engine: Engine,
    uuid: str,
    rows: AsyncIterator[Participant],
    *,
    by_registrant_id: bool = False,
    now: datetime,
    chunk_size: int = DEFAULT_CHUNK,
) -> int:
    """Stage the final participant rows of instance ``uuid``; return how many Zoom sent.

    ``by_registrant_id``: rows that carry a ``registrant_id`` but no e-mail are staged with
    the id, and get their registration's e-mail when switched in (``staging.promote``), so
    the registrants need not be stored yet. Raises NotReady when every row still has a zero
    duration: Zoom has not processed the attendance yet (reference zoom.md 2.2, 2.4).
    """
    with transaction(engine) as conn:
        staging.clear(conn, uuid)
    count, processed = 0, False
    async for batch in chunked(rows, chunk_size):
        count += len(batch)
        processed = processed or any(row.duration > 0 for row in batch)
        found = [
            (convert.session_from_participant(r), _awaited(r, by_registrant_id)) for r in batch
        ]
        kept = [(s, r) for s, r in found if s is not None]
        with transaction(engine) as conn:
            ids = [r for _, r in kept] if by_registrant_id else []
            staging.stage(conn, uuid, [s for s, _ in kept], now=now, registrant_ids=ids)
    if count and not processed:
        raise NotReady(
            "Zoom has not finished processing this meeting's attendance (every duration is "
            "still 0); try again in a few minutes.",
            service="zoom",
        )
    return count


def _awaited(row: Participant, by_registrant_id: bool) -> str | None:
    """The registrant id whose e-mail the row awaits, if any."""
    if by_registrant_id and row.registrant_id and not row.user_email.strip():
        return row.registrant_id
    return None


async def collect_registrants(
    engine: Engine,
    rows: AsyncIterator[Registrant],
    kind: facts.Kind,
    meeting_id: int,
    *,
    tracking_source: str | None = None,
    sources: Mapping[str, str] | None = None,
    after_unfiltered: bool = False,
    now: datetime,
    chunk_size: int = DEFAULT_CHUNK,
) -> int:
    """Store registrants (or absentees, who are registrants); return how many Zoom sent.

    ``tracking_source``: the source name of every row (a listing filtered by source);
    ``sources``: source id -> name, for rows that name their source by id;
    ``after_unfiltered``: the unfiltered listing stored these registrants already, so a
    listing filtered by source only adds the source to those it finds stored
    (``facts.add_tracking_source``: no second conversion and upsert of each).
    """
    count = 0
    async for batch in chunked(rows, chunk_size):
        count += len(batch)
        with transaction(engine) as conn:
            upserted: Sequence[Registrant] = batch
            if after_unfiltered and tracking_source is not None:
                upserted = _sourced(conn, batch, kind, meeting_id, tracking_source, now=now)
            converted = (
                convert.registrant_fact(
                    row, kind, meeting_id, tracking_source=tracking_source, sources=sources
                )
                for row in upserted
            )
            facts.upsert_registrants(conn, [f for f in converted if f is not None], now=now)
    return count


def _sourced(
    conn: Connection,
    batch: Sequence[Registrant],
    kind: facts.Kind,
    meeting_id: int,
    source: str,
    *,
    now: datetime,
) -> list[Registrant]:
    """Add ``source`` to the stored registrants of ``batch``; the rows not stored yet."""
    emails = [e for e in (convert.clean_email(r.email) for r in batch) if e]
    unknown = facts.add_tracking_source(conn, kind, meeting_id, emails, source, now=now)
    return [r for r in batch if convert.clean_email(r.email) in unknown]


Answers = dict[str, dict[str, str]]  # e-mail -> question key -> last answer


async def participation(
    qa: Report[QAEntry],
    polls: Report[PollEntry],
    wanted: frozenset[str] = frozenset(),
    surveyed: Answers | None = None,
) -> dict[str, Participation]:
    """Questions asked, polls answered and last answers per e-mail (deleted questions left out).

    ``wanted``: the ``poll:<title>`` keys whose last answers are kept; ``surveyed``: the
    survey's last answers (``survey_answers``). The reports are read one after the other and
    one entry at a time, so only the counts and wanted answers are ever held. A connection
    lost mid-report restarts the reading of that report.
    """
    asked = await _restarting(lambda: questions_asked(qa))
    polled, said = await _restarting(lambda: poll_results(polls, wanted))
    for address, answers in (surveyed or {}).items():
        said[address] = said.get(address, {}) | answers
    return combine(asked, polled, said)


async def questions_asked(qa: Report[QAEntry]) -> dict[str, int]:
    """Distinct questions per e-mail in a Q&A report (deleted ones left out)."""
    tally = Tally()
    async for entry in qa:
        for detail in entry.question_details:
            if detail.question_status != "deleted":
                tally.add(entry.email, detail.question_id)
    return tally.counts()


async def polls_answered(polls: Report[PollEntry]) -> dict[str, int]:
    """Distinct polls answered per e-mail in a poll report."""
    tally = Tally()
    async for entry in polls:
        for detail in entry.question_details:
            tally.add(entry.email, detail.polling_id)
    return tally.counts()


async def poll_results(
    polls: Report[PollEntry], wanted: frozenset[str]
) -> tuple[dict[str, int], Answers]:
    """Distinct polls answered per e-mail, and the last answer to each ``wanted`` question."""
    tally, last = Tally(), LastAnswers()
    async for entry in polls:
        for detail in entry.question_details:
            tally.add(entry.email, detail.polling_id)
            key = question_key(detail.question, POLL_PREFIX)
            if key in wanted:
                last.add(entry.email, key, detail.answer, detail.date_time)
    return tally.counts(), last.answers()


async def survey_answers(survey: Report[SurveyEntry], wanted: frozenset[str]) -> Answers:
    """The last answer per e-mail to each ``wanted`` (``survey:<title>``) question."""

    async def read() -> Answers:
        last = LastAnswers()
        async for entry in survey:
            for detail in entry.answer_details:
                key = question_key(detail.question, SURVEY_PREFIX)
                if key in wanted:
                    last.add(entry.email, key, detail.answer, detail.date_time)
        return last.answers()

    return await _restarting(read)


async def _restarting(count: Callable[[], Awaitable[T]]) -> T:
    for attempt in range(REPORT_READS):
        try:
            return await count()
        except RetriableApiError as exc:
            if attempt + 1 == REPORT_READS:
                raise
            log.warning("zoom_report_restarted", reason=str(exc))
    raise AssertionError("unreachable")  # pragma: no cover
