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

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.engagement import LastAnswers, Participation, Tally, combine
from zoom_brevo.errors import NotReady, RetriableApiError
from zoom_brevo.pipeline import rows as convert
from zoom_brevo.pipeline import staging
from zoom_brevo.store import facts
from zoom_brevo.store.engine import transaction
from zoom_brevo.store.schema import registrants as registrants_table
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
    registrations_of: tuple[facts.Kind, int] | None = None,
    now: datetime,
    chunk_size: int = DEFAULT_CHUNK,
) -> int:
    """Stage the final participant rows of instance ``uuid``; return how many Zoom sent.

    ``registrations_of``: (kind, id) whose stored registrants give the e-mail of rows that
    carry a ``registrant_id`` but no e-mail. Raises NotReady when every row still has a zero
    duration: Zoom has not processed the attendance yet (reference zoom.md 2.2, 2.4).
    """
    with transaction(engine) as conn:
        staging.clear(conn, uuid)
    count, processed = 0, False
    async for batch in chunked(rows, chunk_size):
        count += len(batch)
        processed = processed or any(row.duration > 0 for row in batch)
        with transaction(engine) as conn:
            emails = _registrant_emails(conn, batch, registrations_of)
            found = (
                convert.session_from_participant(r, emails.get(r.registrant_id or ""))
                for r in batch
            )
            staging.stage(conn, uuid, [s for s in found if s is not None], now=now)
    if count and not processed:
        raise NotReady(
            "Zoom has not finished processing this meeting's attendance (every duration is "
            "still 0); try again in a few minutes.",
            service="zoom",
        )
    return count


def _registrant_emails(
    conn: Connection, batch: Sequence[Participant], registrations_of: tuple[str, int] | None
) -> dict[str, str]:
    wanted = [r.registrant_id for r in batch if r.registrant_id and not r.user_email.strip()]
    if registrations_of is None or not wanted:
        return {}
    kind, meeting_id = registrations_of
    c = registrants_table.c
    stmt = sa.select(c.registrant_id, c.email).where(
        c.kind == kind, c.meeting_id == meeting_id, c.registrant_id.in_(wanted)
    )
    return {row.registrant_id: row.email for row in conn.execute(stmt)}


async def collect_registrants(
    engine: Engine,
    rows: AsyncIterator[Registrant],
    kind: facts.Kind,
    meeting_id: int,
    *,
    tracking_source: str | None = None,
    sources: Mapping[str, str] | None = None,
    now: datetime,
    chunk_size: int = DEFAULT_CHUNK,
) -> int:
    """Store registrants (or absentees, who are registrants); return how many Zoom sent.

    ``tracking_source``: the source name of every row (a listing filtered by source);
    ``sources``: source id -> name, for rows that name their source by id.
    """
    count = 0
    async for batch in chunked(rows, chunk_size):
        count += len(batch)
        converted = (
            convert.registrant_fact(
                row, kind, meeting_id, tracking_source=tracking_source, sources=sources
            )
            for row in batch
        )
        found = [fact for fact in converted if fact is not None]
        with transaction(engine) as conn:
            facts.upsert_registrants(conn, found, now=now)
    return count


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
