"""``sync meeting`` / ``sync webinar``: collect one past meeting or webinar, queue its commands.

Two phases. **Collect** (HTTP): for every instance, its details, registrants and the final
participant list are streamed into the store in chunks (``collect``); a webinar's MEDIUM
registrant listings run beside its HEAVY reports (separate rate budgets). **Derive** (one
transaction, no HTTP): the staged attendance of every instance is switched in, the
instances are marked collected, and each person's commands are derived from the store
(``gather`` -> ``derive``) and queued in the outbox. Facts and commands commit together;
since every instance is collected before anyone is derived, a person's cross-meeting
aggregates include all the instances of this sync. Nothing is delivered here.

Zoom endpoints (reference zoom.md 2.1):

- meetings: ``/past_meetings/{id}/instances`` for a numeric id (every ended instance; a
  UUID names one), ``/past_meetings/{uuid}`` for details, ``/meetings/{id}/registrants``
  and ``/past_meetings/{uuid}/participants``. The MEDIUM participant list is used rather
  than the HEAVY report: it has the same session rows with the Zoom user id and e-mail
  (which is what links people), draws on a larger per-second budget, has no daily cap and
  reaches 15 months back instead of 12.
- webinars: the HEAVY report ``/report/webinars/{uuid}/participants`` with
  ``include_fields=registrant_id``, because attendees outside the account often have no
  e-mail and only the registrant id links them to their registration (reference zoom.md
  6.1); past 6 months Zoom answers 12702 and the MEDIUM ``/past_webinars`` list is used.
  Registrants come once per tracking source (``tracking_source_id`` filter) and once
  unfiltered, so that each gets its source name; absentees from ``/absentees``; Q&A and
  poll reports give the participation counted in the score.

An instance's span is what Zoom reports it was, never its schedule: meetings from
``/past_meetings/{uuid}``, webinars from the HEAVY details report ``/report/webinars/{uuid}``
(Zoom has no past-webinar details endpoint; the report also names a UUID's webinar).
Both are the strongest source of ``store.facts``; what the store then holds (which may
come from ``*.ended``) is the span the people are derived with. Where Zoom keeps no report
(12702, over a year) the end stays unknown: attendance is not cut and no ratio is given.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.engagement import Participation
from zoom_brevo.errors import NotFound, PayloadRejected
from zoom_brevo.pipeline import collect, gather, persist, staging
from zoom_brevo.pipeline.commands import SendEvent
from zoom_brevo.pipeline.derive import (
    DeriveOptions,
    InstanceInfo,
    PersonOutcome,
    candidate_event_keys,
    derive_person,
)
from zoom_brevo.pipeline.mapping import SkipReason
from zoom_brevo.pipeline.occurrences import occurrence_of
from zoom_brevo.store import facts, occurrences, outbox
from zoom_brevo.store.engine import transaction
from zoom_brevo.zoom.client import ZoomClient
from zoom_brevo.zoom.errors import BeyondRetention, NotOnPlan
from zoom_brevo.zoom.models import Occurrence, Participant, Webinar, WebinarReport
from zoom_brevo.zoom.registration_form import POLL_PREFIX, SURVEY_PREFIX

log = structlog.get_logger(__name__)
DERIVE_CHUNK = 500
RECURRING_MEETING = 8  # a recurring meeting with a fixed time (type 3: no fixed time)


@dataclass(frozen=True, slots=True)
class SyncOptions(DeriveOptions):
    """What the configuration decides for a sync: the derivation's options, and how many
    people to derive per transaction."""

    chunk_size: int = collect.DEFAULT_CHUNK


@dataclass(slots=True)
class SyncReport:
    """What one sync collected and queued (counts only; no personal data)."""

    kind: str
    target: str
    instances: int = 0
    participant_rows: int = 0
    registrants: int = 0
    absentees: int = 0
    people: int = 0
    attended: int = 0
    absent: int = 0
    contacts: int = 0
    list_adds: int = 0
    events_queued: int = 0
    events_already_sent: int = 0
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)  # what was skipped and why, said once

    @property
    def guests_skipped(self) -> int:
        """People left out of Brevo (no usable e-mail, excluded domain)."""
        return sum(self.skipped_by_reason.values())

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe document."""
        return {
            "kind": self.kind,
            "target": self.target,
            "instances": self.instances,
            "participant_rows": self.participant_rows,
            "registrants": self.registrants,
            "absentees": self.absentees,
            "people": self.people,
            "attended": self.attended,
            "absent": self.absent,
            "contacts": self.contacts,
            "list_adds": self.list_adds,
            "events_queued": self.events_queued,
            "events_already_sent": self.events_already_sent,
            "guests_skipped": self.guests_skipped,
            "skipped_by_reason": dict(sorted(self.skipped_by_reason.items())),
            **({"notes": list(self.notes)} if self.notes else {}),
        }


@dataclass(slots=True)
class _Run:
    """What every step of one sync shares."""

    zoom: ZoomClient
    engine: Engine
    options: SyncOptions
    report: SyncReport
    now: datetime
    survey_refused: bool = False  # the plan has no survey reports: noted once, not asked again


def parse_target(id_or_uuid: str) -> int | str:
    """A meeting number (spaces allowed, as Zoom prints them) or an instance UUID."""
    text = id_or_uuid.strip()
    digits = text.replace(" ", "")
    if digits.isdigit():
        return int(digits)
    if not text:
        raise NotFound("No meeting ID or UUID given.", service="zoom")
    return text


# --- meetings ----------------------------------------------------------------------------


async def sync_meeting(
    zoom: ZoomClient, engine: Engine, id_or_uuid: str, options: SyncOptions, *, now: datetime
) -> SyncReport:
    """Collect a past meeting (every ended instance of a numeric id) and queue its commands."""
    target = parse_target(id_or_uuid)
    run = _Run(zoom, engine, options, SyncReport("meeting", str(target)), now)
    if isinstance(target, int):
        uuids = [i.uuid async for i in zoom.past_meeting_instances(target)]
        if not uuids:
            raise NotFound(f"Zoom lists no ended instance of meeting {target}.", service="zoom")
    else:
        uuids = [target]
    infos: list[InstanceInfo] = []
    for uuid in uuids:
        info = await _meeting_instance(run, uuid)
        if all(i.meeting_id != info.meeting_id for i in infos):
            rows = zoom.meeting_registrants(info.meeting_id)
            run.report.registrants += await _optional(
                collect.collect_registrants(engine, rows, "meeting", info.meeting_id, now=now)
            )
        participants = zoom.past_meeting_participants(uuid)
        run.report.participant_rows += await collect.collect_participants(
            engine, uuid, participants, now=now, chunk_size=options.chunk_size
        )
        infos.append(info)
    _finish(run, infos, {})
    return run.report


async def _meeting_instance(run: _Run, uuid: str) -> InstanceInfo:
    details = await run.zoom.past_meeting(uuid)
    occurrence = None
    if details.type == RECURRING_MEETING and details.id:
        listed = await _occurrences(run.zoom, details.id)
        _remember(run, "meeting", details.id, listed)
        occurrence = occurrence_of(details.start_time, listed)
    instance = facts.Instance(
        uuid=uuid,
        meeting_id=details.id or 0,
        kind="meeting",
        topic=details.topic or None,
        host_id=details.host_id,
        host_email=details.user_email,
        start_time=details.start_time,
        end_time=details.end_time,
        span_source="report",
        occurrence_id=occurrence,
    )
    return _stored(run, instance)


async def _occurrences(zoom: ZoomClient, meeting_id: int) -> list[Occurrence]:
    """A recurring meeting's occurrences, past ones too; none once the meeting expired."""
    try:
        return (await zoom.meeting(meeting_id, previous_occurrences=True)).occurrences
    except NotFound:
        return []


def _remember(run: _Run, kind: facts.Kind, meeting_id: int, listed: list[Occurrence]) -> None:
    """Keep the occurrences Zoom listed, for the live instances to come (``handlers``)."""
    if listed:
        with transaction(run.engine) as conn:
            pairs = [(o.occurrence_id, o.start_time) for o in listed]
            occurrences.remember(conn, kind, meeting_id, pairs, now=run.now)


def _stored(run: _Run, instance: facts.Instance) -> InstanceInfo:
    """Merge ``instance`` into the store; the instance as the store now knows it.

    What the store knows may be stronger than this observation (``facts``: the span rule),
    and it is what the webhook path reads too, so both paths derive from the same span.
    """
    with transaction(run.engine) as conn:
        if not facts.upsert_instance(conn, instance, now=run.now):
            log.warning("instance_span_refused", uuid=instance.uuid, source=instance.span_source)
        known = facts.get_instance(conn, instance.uuid)
    assert known is not None  # just written, in the same transaction
    return InstanceInfo(
        known.kind,
        known.uuid,
        known.meeting_id,
        known.topic,
        known.start_time,
        known.end_time,
        occurrence_id=known.occurrence_id,
    )


# --- webinars ----------------------------------------------------------------------------


async def sync_webinar(
    zoom: ZoomClient, engine: Engine, id_or_uuid: str, options: SyncOptions, *, now: datetime
) -> SyncReport:
    """Collect a past webinar's registrants, attendees and absentees and queue its commands."""
    target = parse_target(id_or_uuid)
    run = _Run(zoom, engine, options, SyncReport("webinar", str(target)), now)
    reports: dict[str, WebinarReport | None] = {}
    if isinstance(target, int):
        webinar_id = target
        found = [(i.uuid, i.start_time) async for i in zoom.past_webinar_instances(target)]
        if not found:
            raise NotFound(f"Zoom lists no ended instance of webinar {target}.", service="zoom")
    else:
        details = await zoom.webinar_report(target)  # names a UUID's webinar, and its span
        webinar_id, found = details.id or 0, [(target, details.start_time)]
        reports[target] = details
    scheduled = await _scheduled_webinar(zoom, webinar_id)
    _remember(run, "webinar", webinar_id, scheduled.occurrences if scheduled else [])
    infos: list[InstanceInfo] = []
    taken: dict[str, dict[str, Participation] | None] = {}

    async def heavy() -> None:
        """Per instance: details, absentees, participant, Q&A and poll reports."""
        for uuid, start in found:
            report = reports[uuid] if uuid in reports else await _webinar_report(zoom, uuid)
            info = _stored(run, _webinar_facts(uuid, webinar_id, start, report, scheduled))
            await _webinar_absentees(run, info)
            await _webinar_attendance(run, info)
            taken[uuid] = await _participation(run, uuid)
            infos.append(info)

    # Zoom limits each rate category on its own budget (reference zoom.md 3): the MEDIUM
    # registrant listings and the HEAVY reports run side by side. Report rows that only
    # name a registrant id get its e-mail when switched in (``_finish``), once the
    # registrants are stored.
    await both(_webinar_registrants(run, webinar_id), heavy())
    _finish(run, infos, taken)
    return run.report


async def both(first: Awaitable[None], second: Awaitable[None]) -> None:
    """Run ``first`` and ``second`` at the same time; the first failure cancels the other
    and is raised as itself (not in an exception group), as if they had run in turn."""
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(_awaited(first))
            group.create_task(_awaited(second))
    except BaseExceptionGroup as failed:
        raise _first_leaf(failed) from None


async def _awaited(work: Awaitable[None]) -> None:
    await work


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


async def _webinar_report(zoom: ZoomClient, uuid: str) -> WebinarReport | None:
    """The instance's details report; ``None`` past the year Zoom keeps it (12702)."""
    try:
        return await zoom.webinar_report(uuid)
    except BeyondRetention as exc:
        log.info("zoom_webinar_report_unavailable", code=exc.code)
        return None


def _webinar_facts(
    uuid: str,
    webinar_id: int,
    listed_start: datetime | None,
    report: WebinarReport | None,
    scheduled: Webinar | None,
) -> facts.Instance:
    """What Zoom says of one webinar instance: the report's span, else no end at all; the
    occurrence it was, when the webinar recurs."""
    listed = scheduled.occurrences if scheduled is not None else []
    if report is None:
        return facts.Instance(
            uuid=uuid,
            meeting_id=webinar_id,
            kind="webinar",
            topic=scheduled.topic or None if scheduled is not None else None,
            start_time=listed_start,
            occurrence_id=occurrence_of(listed_start, listed),
        )
    start = report.start_time or listed_start
    return facts.Instance(
        uuid=uuid,
        meeting_id=webinar_id,
        kind="webinar",
        topic=report.topic or None,
        host_email=report.user_email or None,
        start_time=report.start_time,
        end_time=report.end_time,
        span_source="report",
        occurrence_id=occurrence_of(start, listed),
    )


async def _scheduled_webinar(zoom: ZoomClient, webinar_id: int) -> Webinar | None:
    """The webinar with all its occurrences, past ones too; ``None`` once it expired."""
    try:
        return await zoom.webinar(webinar_id, previous_occurrences=True)
    except NotFound:
        return None


async def _webinar_registrants(run: _Run, webinar_id: int) -> None:
    """Every registrant (unfiltered listing), then each tracking source's, which only adds
    the source name to the registrants already stored: each registrant written once."""
    listing = run.zoom.webinar_tracking_sources(webinar_id)
    sources = {s.id: s.source_name async for s in listing if s.id}
    rows = run.zoom.webinar_registrants(webinar_id)
    run.report.registrants += await collect.collect_registrants(
        run.engine, rows, "webinar", webinar_id, sources=sources, now=run.now
    )
    for source_id, name in sources.items():
        rows = run.zoom.webinar_registrants(webinar_id, tracking_source_id=source_id)
        await collect.collect_registrants(
            run.engine,
            rows,
            "webinar",
            webinar_id,
            tracking_source=name,
            after_unfiltered=True,
            now=run.now,
        )


async def _webinar_absentees(run: _Run, info: InstanceInfo) -> None:
    absentees = run.zoom.webinar_absentees(info.uuid)
    run.report.absentees += await _optional(
        collect.collect_registrants(run.engine, absentees, "webinar", info.meeting_id, now=run.now)
    )


async def _webinar_attendance(run: _Run, info: InstanceInfo) -> None:
    try:
        rows = await _webinar_attendees(run, info, run.zoom.webinar_participant_report(info.uuid))
    except BeyondRetention:
        rows = await _webinar_attendees(run, info, run.zoom.past_webinar_participants(info.uuid))
    run.report.participant_rows += rows


async def _webinar_attendees(
    run: _Run, info: InstanceInfo, rows: AsyncIterator[Participant]
) -> int:
    return await collect.collect_participants(
        run.engine,
        info.uuid,
        rows,
        by_registrant_id=True,
        now=run.now,
        chunk_size=run.options.chunk_size,
    )


async def _participation(run: _Run, uuid: str) -> dict[str, Participation] | None:
    """Questions, polls and mapped answers per e-mail; ``None`` when Zoom has no such reports."""
    zoom = run.zoom
    try:
        surveyed = await _survey(run, uuid)
        return await collect.participation(
            zoom.webinar_qa_report(uuid),
            zoom.webinar_poll_report(uuid),
            _wanted(run.options.field_mapping, POLL_PREFIX),
            surveyed,
        )
    except NotFound:
        return None


async def _survey(run: _Run, uuid: str) -> collect.Answers:
    """The mapped survey questions' last answers; none when nothing is mapped or on a plan
    without surveys (code 200, noted once per sync)."""
    wanted = _wanted(run.options.field_mapping, SURVEY_PREFIX)
    if not wanted or run.survey_refused:
        return {}
    try:
        return await collect.survey_answers(run.zoom.webinar_survey_report(uuid), wanted)
    except NotFound as exc:  # no survey report for this instance: its polls still count
        log.info("zoom_survey_report_unavailable", code=exc.code)
        return {}
    except NotOnPlan as exc:
        run.survey_refused = True
        log.warning("zoom_survey_unavailable", code=exc.code)
        run.report.notes.append(
            f"Zoom does not give this account webinar survey reports (code {exc.code}); "
            "field_mapping.survey_questions skipped. Surveys need a paid plan with the "
            "webinar add-on and the report:read:webinar_survey:admin scope."
        )
        return {}


def _wanted(field_mapping: Mapping[str, str], prefix: str) -> frozenset[str]:
    """The question keys with ``prefix`` that are mapped to an attribute."""
    return frozenset(k for k, name in field_mapping.items() if k.startswith(prefix) and name)


async def _optional(counting: Any) -> int:
    """A registrant listing that Zoom may refuse when registration is off (code 3000)."""
    try:
        found: int = await counting
    except (NotFound, PayloadRejected) as exc:
        log.info("zoom_registrants_unavailable", code=exc.code)
        return 0
    return found


# --- derive ------------------------------------------------------------------------------


def _finish(
    run: _Run,
    infos: list[InstanceInfo],
    taken: Mapping[str, Mapping[str, Participation] | None],
) -> None:
    """Switch in the staged attendance and queue every instance's commands, atomically."""
    with transaction(run.engine) as conn:
        for info in infos:
            staging.promote(conn, info.uuid, registrations_of=(info.kind, info.meeting_id))
            facts.set_collected(conn, info.uuid, "collected", now=run.now)
        for info in sorted(infos, key=lambda i: (i.start_time is None, i.start_time, i.uuid)):
            run.report.instances += 1
            guests = gather.guests_without_email(conn, info.uuid)
            if guests:
                run.report.skipped_by_reason[SkipReason.NO_EMAIL.value] += guests
            known = taken.get(info.uuid)
            # The Q&A and poll reports were read: someone not in them took part 0 times.
            read = replace(info, participation_known=known is not None)
            for emails in gather.chunks(conn, read, DERIVE_CHUNK):
                _derive_chunk(run, conn, read, emails, known or {})


def _derive_chunk(
    run: _Run,
    conn: Connection,
    info: InstanceInfo,
    emails: list[str],
    taken: Mapping[str, Participation],
) -> None:
    people = gather.load_people(conn, info, emails, participation=taken)
    keys = [k for p in people for k in candidate_event_keys(info, p.email)]
    already = gather.effects_known(conn, keys) if run.options.events else set()
    commands: list[outbox.NewCommand] = []
    contacts: list[PersonOutcome] = []
    for person in people:
        outcome = derive_person(info, person, run.options, already=already, now=run.now)
        _count(run.report, outcome)
        if outcome.contact is None:
            continue
        contacts.append(outcome)
        commands.extend(
            outbox.NewCommand(c.kind, c.to_payload(), c.coalescing_key) for c in outcome.commands
        )
    persist.store_people(conn, contacts, now=run.now)
    outbox.add_many(conn, commands, now=run.now)


def _count(report: SyncReport, outcome: PersonOutcome) -> None:
    if outcome.skipped is not None:
        report.skipped_by_reason[outcome.skipped.value] += 1
        return
    contact = outcome.contact
    if contact is None:
        return
    report.people += 1
    report.attended += outcome.attended
    report.absent += outcome.absent
    report.contacts += 1
    report.list_adds += len(contact.list_ids)
    report.events_queued += sum(isinstance(c, SendEvent) for c in outcome.commands)
    report.events_already_sent += outcome.events_already_sent


__all__ = ["SyncOptions", "SyncReport", "sync_meeting", "sync_webinar"]
