"""``recording.completed`` and the follow-up that brings the link to the people.

The handler stores the recording (Zoom sends duplicates that differ only in
``download_url``/``download_token``, reference zoom.md 4.3: they are one upsert) and queues
one ``recording`` job (unique key ``recording:<uuid>``), plus the instance's ``collect``
job in case ``*.ended`` never came (the unique key makes it a no-op otherwise), and the
first ``replay`` job (who watched it later: ``handlers.replays``).

The job waits until the instance's final attendance is collected, then follows
``brevo.recordings.mode``:

- ``event``: ``zoom_recording_ready`` (share link, passcode) to every attendee, and to the
  absentees of a webinar; ledger key ``zoom_recording_ready:<uuid>:<email>``.
- ``transactional``: one template e-mail per recipient through the outbox
  (``SendTemplateEmail``; delivery batches them into ``messageVersions`` under an
  idempotency key); ledger key ``zoom_recording_email:<uuid>:<email>``.
- ``campaign``: in steps, each queued in the outbox (``CreateCampaignList``,
  ``SendCampaign``) and delivered once by the delivery worker, with its retries, dead
  letters and ledger (``delivery.campaigns``): (1) create the list "Zoom recording -
  <topic> <date>"; (2) once it exists, queue the recipients' contact upserts into it;
  (3) once the outbox has delivered them, create the campaign from ``template_id`` with
  ``sender`` and send it. The job only queues: it never calls Brevo, and a step already
  queued, recorded or in flight is not queued again.
- ``off``: nothing.

Event and e-mail commands are queued in the same transaction that completes the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from zoom_brevo.errors import ConfigError
from zoom_brevo.handlers.context import (
    Context,
    GiveUp,
    HandlerOptions,
    enqueue,
    instance_properties,
    new_events,
    usable_email,
)
from zoom_brevo.handlers.lifecycle import COLLECT_JOB, instance_of, schedule_collect
from zoom_brevo.handlers.replays import schedule_replay
from zoom_brevo.pipeline.commands import (
    CampaignCommand,
    Command,
    CreateCampaignList,
    SendCampaign,
    SendEvent,
    SendTemplateEmail,
    UpsertContact,
)
from zoom_brevo.store import facts, jobs, ledger, outbox
from zoom_brevo.zoom.webhook_models import Envelope, RecordingObject

RECORDING_JOB = "recording"
RECORDING_JOB_ATTEMPTS = 60
READY_EVENT = "zoom_recording_ready"
EMAIL_KEY = "zoom_recording_email"
CAMPAIGN_LIST_KEY = "zoom_recording_campaign_list"
CAMPAIGN_KEY = "zoom_recording_campaign"
CAMPAIGN_SENT_KEY = "zoom_recording_campaign_sent"
CAMPAIGN_MEMBERS_KEY = "zoom_recording_campaign_members"  # the members were queued
COLLECTED = ("collected", "reconciled")
_KEPT_FILE_FIELDS = ("id", "file_type", "file_extension", "recording_type", "file_size", "status")


def recording_of(obj: RecordingObject, now: Any) -> facts.Recording:
    """The store's recording (files without their download links)."""
    files = [f.model_dump(include=set(_KEPT_FILE_FIELDS)) for f in obj.recording_files]
    return facts.Recording(
        instance_uuid=obj.uuid,
        meeting_id=obj.meeting_id,
        completed_at=now,
        files=files,
        topic=obj.topic or None,
        share_url=obj.share_url or None,
        passcode=obj.password or None,
    )


def handle_completed(ctx: Context, body: Envelope[RecordingObject]) -> None:
    """Store the recording; queue its follow-up (and the collection, if still missing)."""
    obj = body.obj
    if not obj.uuid:
        raise ValueError("the event names no meeting instance (payload.object.uuid is empty)")
    facts.upsert_instance(
        ctx.conn, instance_of(obj, obj.kind, body.payload.account_id, "live"), now=ctx.now
    )
    facts.upsert_recording(ctx.conn, recording_of(obj, ctx.now), now=ctx.now)
    if ctx.options.recordings.mode == "off":
        return
    schedule_replay(ctx.conn, obj.uuid, 0, days=ctx.options.replay_days, now=ctx.now)
    schedule_collect(ctx, obj.uuid, obj.kind, obj.meeting_id)
    jobs.enqueue(
        ctx.conn,
        RECORDING_JOB,
        {"uuid": obj.uuid},
        now=ctx.now,
        unique_key=f"{RECORDING_JOB}:{obj.uuid}",
        max_attempts=RECORDING_JOB_ATTEMPTS,
    )


# --- the follow-up job -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ready:
    """Final attendance is known: the instance, its recording and who gets the link."""

    instance: facts.Instance
    recording: facts.Recording
    recipients: tuple[str, ...]


class Waiting(Exception):
    """The final attendance is not collected yet; try again later."""


def attendees(sessions: list[facts.Session]) -> set[str]:
    """Addresses with some time in the meeting itself (waiting room excluded)."""
    return {
        s.email
        for s in sessions
        if s.email
        and s.status == "in_meeting"
        and (s.leave_time is None or s.leave_time > s.join_time)
    }


def recipients_of(conn: Connection, instance: facts.Instance, options: HandlerOptions) -> list[str]:
    """Attendees, plus the approved registrants who stayed away from a webinar."""
    found = attendees(facts.sessions(conn, instance.uuid))
    if instance.kind == "webinar":
        regs = facts.list_registrants(conn, "webinar", instance.meeting_id, status="approved")
        found.update(r.email for r in regs)
    usable = (usable_email(e, options) for e in sorted(found))
    return sorted({e for e in usable if e})


def ready(conn: Connection, uuid: str, options: HandlerOptions) -> Ready | None:
    """``Ready`` once collected; ``None`` when there is nothing to follow up; else ``Waiting``."""
    instance = facts.get_instance(conn, uuid)
    recording = facts.get_recording(conn, uuid)
    if instance is None or recording is None:
        return None
    if instance.collect_state not in COLLECTED:
        collect = jobs.get_by_key(conn, f"{COLLECT_JOB}:{uuid}")
        if collect is not None and collect.state == "dead":
            raise GiveUp(
                "the meeting's final attendance could not be collected (see the dead "
                "'collect' job); retry it, then this one"
            )
        raise Waiting(uuid)
    return Ready(instance, recording, tuple(recipients_of(conn, instance, options)))


def link_properties(found: Ready) -> dict[str, Any]:
    """What the link's event or e-mail carries."""
    values = {**instance_properties(found.instance), "topic": found.recording.topic}
    values |= {"share_url": found.recording.share_url, "passcode": found.recording.passcode}
    return {k: v for k, v in values.items() if v not in (None, "")}


def followup_commands(found: Ready, options: HandlerOptions) -> list[Command]:
    """Events or e-mails for ``event`` / ``transactional`` mode. Pure."""
    mode = options.recordings.mode
    props = link_properties(found)
    uuid = found.instance.uuid
    if mode == "event":
        return [
            SendEvent(READY_EVENT, email, f"{READY_EVENT}:{uuid}:{email}", props)
            for email in found.recipients
        ]
    if mode == "transactional":
        template = _required(options.recordings.template_id, "template_id", mode)
        params = {key.upper(): value for key, value in props.items()}
        return [
            SendTemplateEmail(template, email, f"{EMAIL_KEY}:{uuid}:{email}", params)
            for email in found.recipients
        ]
    return []


def _required(value: int | None, key: str, mode: str) -> int:
    if value is None:
        raise ConfigError(
            f"is required for recordings mode {mode!r}", key=f"brevo.recordings.{key}"
        )
    return value


def queue_followup(ctx: Context, uuid: str) -> None:
    """Run the job for ``event`` / ``transactional`` mode inside the job's transaction."""
    found = ready(ctx.conn, uuid, ctx.options)
    if found is None:
        return
    commands = followup_commands(found, ctx.options)
    events = new_events(ctx.conn, [c for c in commands if isinstance(c, SendEvent)])
    emails = _new_emails(ctx.conn, [c for c in commands if isinstance(c, SendTemplateEmail)])
    enqueue(ctx.conn, [*events, *emails], now=ctx.now)


def _new_emails(conn: Connection, emails: list[SendTemplateEmail]) -> list[SendTemplateEmail]:
    keys = [e.ledger_key for e in emails]
    known = ledger.already_sent(conn, keys)
    queued = {key for key, _, _ in outbox.unfinished(conn, [f"email:{k}" for k in keys])}
    return [e for e in emails if e.ledger_key not in known and e.coalescing_key not in queued]


# --- campaign mode ---------------------------------------------------------------------


def campaign_list_name(found: Ready) -> str:
    """``Zoom recording - <topic> <date>``."""
    topic = found.recording.topic or found.instance.topic or "meeting"
    start = found.instance.start_time
    day = start.date().isoformat() if start else ""
    return f"Zoom recording - {topic} {day}".strip()


@dataclass(frozen=True, slots=True)
class CampaignStep:
    """What the campaign job does next (``None`` list: not created yet)."""

    found: Ready
    list_id: int | None
    members_queued: bool
    sent: bool
    contacts_pending: bool


def campaign_step(conn: Connection, uuid: str, options: HandlerOptions) -> CampaignStep | None:
    """Where the campaign of ``uuid`` stands (``None``: nothing to send)."""
    found = ready(conn, uuid, options)
    if found is None or not found.recipients:
        return None
    listed = ledger.detail(conn, f"{CAMPAIGN_LIST_KEY}:{uuid}")
    members = ledger.detail(conn, f"{CAMPAIGN_MEMBERS_KEY}:{uuid}") is not None
    sent = ledger.detail(conn, f"{CAMPAIGN_SENT_KEY}:{uuid}") is not None
    pending = bool(outbox.unfinished(conn, [f"contact:{e}" for e in found.recipients]))
    list_id = int(listed["list_id"]) if listed else None
    return CampaignStep(found, list_id, members, sent, pending)


WAITING_FOR_LIST = "waiting for the campaign list to be created in Brevo"
WAITING_FOR_MEMBERS = "waiting for the list members to reach Brevo"


def queue_campaign(ctx: Context, uuid: str) -> str | None:
    """Queue the campaign's next step (module docstring) in the job's transaction.

    Returns what the job waits for before the next step, or ``None`` when nothing is left
    for it (the campaign was queued or sent, or there is nobody to send it to). Raises
    ``Waiting`` until the final attendance is collected and ``ConfigError`` when template
    or sender are missing, before anything is created.
    """
    step = campaign_step(ctx.conn, uuid, ctx.options)
    if step is None or step.sent:
        return None
    content = campaign_content(step.found, ctx.options)
    if step.list_id is None:
        name = campaign_list_name(step.found)
        _queue_once(ctx, CreateCampaignList(name, f"{CAMPAIGN_LIST_KEY}:{uuid}"))
        return WAITING_FOR_LIST
    if not step.members_queued:
        enqueue(ctx.conn, list_members(step.found, step.list_id), now=ctx.now)
        ledger.record_if_new(ctx.conn, f"{CAMPAIGN_MEMBERS_KEY}:{uuid}", now=ctx.now)
        return WAITING_FOR_MEMBERS
    if step.contacts_pending:
        return WAITING_FOR_MEMBERS
    send = SendCampaign(
        **content,
        list_ids=(step.list_id,),
        created_key=f"{CAMPAIGN_KEY}:{uuid}",
        ledger_key=f"{CAMPAIGN_SENT_KEY}:{uuid}",
    )
    _queue_once(ctx, send)
    return None


def _queue_once(ctx: Context, command: CampaignCommand) -> None:
    """Queue ``command`` unless the same one is queued or being sent."""
    if not outbox.in_flight_keys(ctx.conn, [command.coalescing_key]):
        enqueue(ctx.conn, [command], now=ctx.now)


def list_members(found: Ready, list_id: int) -> list[UpsertContact]:
    """Contact upserts that put every recipient in the campaign's list."""
    return [UpsertContact(email, {}, (list_id,)) for email in found.recipients]


def campaign_content(found: Ready, options: HandlerOptions) -> dict[str, Any]:
    """The campaign's name, subject, sender, template and params (config checked)."""
    rec = options.recordings
    template = _required(rec.template_id, "template_id", "campaign")
    if not rec.sender_email:
        raise ConfigError(
            "is required for recordings mode 'campaign'", key="brevo.recordings.sender"
        )
    sender = {"email": rec.sender_email} | ({"name": rec.sender_name} if rec.sender_name else {})
    params = {key.upper(): value for key, value in link_properties(found).items()}
    topic = found.recording.topic or found.instance.topic or "your meeting"
    return {
        "name": campaign_list_name(found),
        "subject": f"Recording: {topic}",
        "sender": sender,
        "template_id": template,
        "params": params,
    }
