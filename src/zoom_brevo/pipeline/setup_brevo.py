"""``setup-brevo``: make the Brevo account hold the attributes and lists the config needs.

:func:`plan_setup` is pure (account state + what the configuration needs -> a plan);
:func:`read_account` and :func:`apply_plan` are the I/O shells around it.

Decisions:

- **Attributes** of the field mapping are created with their Brevo type (``text``,
  ``float``, ``date``, category ``normal``). An attribute that exists with another type is
  an error the user must fix in Brevo: changing a type would lose the values stored.
- The attributes ``register`` writes back (``ZOOM_JOIN_URL``, ``ZOOM_REGISTRANT_ID``,
  ``ZOOM_NEXT_START``, ``registration.writeback``) are always created, as text.
- **Lists** are needed by the enabled features: ``meeting_participants`` when
  ``sync.participants`` is on, ``webinar_attendees`` and ``webinar_registrants`` when
  ``sync.webinars`` is on. ``webinar_absentees`` is optional (``null`` means "no absentee
  list", INTERFACE.md) and is never created. A configured list id that Brevo does not know
  is an error: a list cannot be created with a chosen id.
- A needed list configured as ``null`` is looked up **by name** in the folder ``Zoom``
  (``Zoom - Meeting participants``, ...) and created (with the folder) when absent, so a
  second run finds it and creates nothing. Its id must then be written into
  ``connectors.zoom.lists``: the plan carries the YAML snippet to paste.
- The **Brevo webhook** of automatic registration (``listAddition``, marketing, sending the
  bearer token ``connectors.zoom.registration.brevo_webhook_token`` to
  ``brevo_webhook_url``) is created when both are set and lists are watched, unless a
  marketing webhook with that URL and event exists already (official spec, createWebhook
  and getWebhooks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.config import Settings
from zoom_brevo.pipeline.mapping import attribute_definitions, resolve_field_mapping
from zoom_brevo.registration import writeback

FOLDER_NAME = "Zoom"
LIST_NAMES: Mapping[str, str] = {
    "meeting_participants": "Zoom - Meeting participants",
    "webinar_attendees": "Zoom - Webinar attendees",
    "webinar_registrants": "Zoom - Webinar registrants",
    "webinar_absentees": "Zoom - Webinar absentees",
}
ATTRIBUTE_CATEGORY = "normal"
WEBHOOK_EVENT = "listAddition"
WEBHOOK_TYPE = "marketing"
WEBHOOK_DESCRIPTION = "zoom-brevo: register who enters a list into the Zoom webinar"


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the Brevo account holds: attribute types by upper-case name, lists, folders."""

    attributes: Mapping[str, str | None]
    lists: Mapping[int, tuple[str, int]]  # id -> (name, folder id)
    folders: Mapping[int, str]  # id -> name
    webhooks: Mapping[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # marketing


@dataclass(frozen=True, slots=True)
class Needs:
    """What the configuration needs: attribute types, and list ids by role (``None``: unset)."""

    attributes: Mapping[str, str]
    lists: Mapping[str, int | None]
    webhook: WebhookNeed | None = None


@dataclass(frozen=True, slots=True)
class WebhookNeed:
    """The ``listAddition`` webhook automatic registration needs: where, with what token."""

    url: str
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class WrongType:
    """An attribute that exists with a type other than the one needed."""

    name: str
    expected: str
    actual: str | None


@dataclass(frozen=True, slots=True)
class SetupPlan:
    """What to do, what is already right, and what only the user can fix.

    ``lists_found``: lists not configured but found by name (role -> id);
    ``lists_to_create``: role -> name; ``folder_id``: the ``Zoom`` folder if it exists.
    """

    attributes_present: tuple[str, ...] = ()
    attributes_to_create: Mapping[str, str] = field(default_factory=dict)
    wrong_types: tuple[WrongType, ...] = ()
    lists_present: Mapping[str, int] = field(default_factory=dict)
    lists_missing: Mapping[str, int] = field(default_factory=dict)
    lists_found: Mapping[str, int] = field(default_factory=dict)
    lists_to_create: Mapping[str, str] = field(default_factory=dict)
    folder_id: int | None = None
    webhook_present: int | None = None
    webhook_to_create: WebhookNeed | None = None

    @property
    def create_folder(self) -> bool:
        """Lists must be created and the ``Zoom`` folder does not exist yet."""
        return bool(self.lists_to_create) and self.folder_id is None

    @property
    def has_changes(self) -> bool:
        """Something would be created in Brevo."""
        return bool(self.attributes_to_create or self.lists_to_create or self.webhook_to_create)

    def errors(self) -> list[str]:
        """Problems ``setup-brevo`` cannot fix, each with what to do."""
        found = [
            f"Brevo attribute {w.name} has type {w.actual or 'none (not a normal attribute)'}"
            f" but must be {w.expected}: delete or rename it in Brevo (Contacts > Settings >"
            " Contact attributes), or map the field to another name in field_mapping"
            for w in self.wrong_types
        ]
        found.extend(
            f"connectors.zoom.lists.{role}: Brevo has no list {list_id}; set the id of an"
            f" existing list, or null to let setup-brevo create {LIST_NAMES[role]!r}"
            for role, list_id in self.lists_missing.items()
        )
        return found


def needs_of(settings: Settings) -> Needs:
    """The attributes (name -> Brevo type) and lists (role -> id) ``settings`` needs."""
    mapping = resolve_field_mapping(settings.field_mapping.attributes())
    zoom = settings.connectors.zoom
    configured = zoom.lists
    roles: list[str] = []
    if zoom.sync.participants:
        roles.append("meeting_participants")
    if zoom.sync.webinars:
        roles += ["webinar_attendees", "webinar_registrants"]
    lists: dict[str, int | None] = {role: getattr(configured, role) for role in roles}
    lists.update(configured.ids())  # every configured id must exist, needed or not
    attributes = dict(attribute_definitions(mapping)) | dict(writeback.ATTRIBUTE_TYPES)
    return Needs(attributes=attributes, lists=lists, webhook=_webhook_need(settings))


def _webhook_need(settings: Settings) -> WebhookNeed | None:
    registration = settings.connectors.zoom.registration
    url, token = registration.brevo_webhook_url, registration.brevo_webhook_token
    if url is None or token is None or not registration.from_lists:
        return None
    return WebhookNeed(url=url, token=token.get_secret_value())


def plan_setup(account: AccountState, needs: Needs) -> SetupPlan:
    """Compare the account with what is needed (pure; see the module docstring)."""
    present, to_create, wrong = _plan_attributes(account.attributes, needs.attributes)
    folder_id = next(
        (i for i, name in sorted(account.folders.items()) if name == FOLDER_NAME), None
    )
    by_name = {
        name: list_id
        for list_id, (name, folder) in sorted(account.lists.items(), reverse=True)
        if folder == folder_id
    }
    lists_present: dict[str, int] = {}
    lists_missing: dict[str, int] = {}
    lists_found: dict[str, int] = {}
    lists_to_create: dict[str, str] = {}
    for role, list_id in needs.lists.items():
        if list_id is not None:
            target = lists_present if list_id in account.lists else lists_missing
            target[role] = list_id
        elif (found := by_name.get(LIST_NAMES[role])) is not None:
            lists_found[role] = found
        else:
            lists_to_create[role] = LIST_NAMES[role]
    return SetupPlan(
        attributes_present=present,
        attributes_to_create=to_create,
        wrong_types=wrong,
        lists_present=lists_present,
        lists_missing=lists_missing,
        lists_found=lists_found,
        lists_to_create=lists_to_create,
        folder_id=folder_id,
        **_plan_webhook(account, needs.webhook),
    )


def _plan_webhook(account: AccountState, need: WebhookNeed | None) -> dict[str, Any]:
    if need is None:
        return {}
    for webhook_id, (url, events) in sorted(account.webhooks.items()):
        if url == need.url and WEBHOOK_EVENT in events:
            return {"webhook_present": webhook_id}
    return {"webhook_to_create": need}


def _plan_attributes(
    existing: Mapping[str, str | None], wanted: Mapping[str, str]
) -> tuple[tuple[str, ...], dict[str, str], tuple[WrongType, ...]]:
    have = {name.upper(): kind for name, kind in existing.items()}
    present: list[str] = []
    to_create: dict[str, str] = {}
    wrong: list[WrongType] = []
    for name, kind in wanted.items():
        key = name.upper()
        if key not in have:
            to_create[key] = kind
        elif (have[key] or "").lower() == kind:
            present.append(key)
        else:
            wrong.append(WrongType(key, kind, have[key]))
    return tuple(present), to_create, tuple(wrong)


def config_snippet(list_ids: Mapping[str, int]) -> str:
    """The ``connectors.zoom.lists`` YAML to paste into the configuration."""
    if not list_ids:
        return ""
    lines = ["connectors:", "  zoom:", "    lists:"]
    lines += [f"      {role}: {list_id}" for role, list_id in sorted(list_ids.items())]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class SetupResult:
    """What was done: the plan, and the ids of lists created (role -> id)."""

    plan: SetupPlan
    applied: bool
    attributes_created: tuple[str, ...] = ()
    folder_created: int | None = None
    lists_created: Mapping[str, int] = field(default_factory=dict)
    webhook_created: int | None = None

    @property
    def new_list_ids(self) -> dict[str, int]:
        """Ids to write into ``connectors.zoom.lists`` (found by name or created)."""
        return {**self.plan.lists_found, **self.lists_created}

    @property
    def ok(self) -> bool:
        """Nothing left wrong (a dry run with changes pending is not ok)."""
        pending = not self.applied and self.plan.has_changes
        return not self.plan.errors() and not pending

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON-ready document."""
        plan = self.plan
        return {
            "ok": self.ok,
            "dry_run": not self.applied,
            "attributes": {
                "present": list(plan.attributes_present),
                "to_create": dict(plan.attributes_to_create),
                "created": list(self.attributes_created),
                "wrong_type": [
                    {"name": w.name, "expected": w.expected, "actual": w.actual}
                    for w in plan.wrong_types
                ],
            },
            "lists": {
                "present": dict(plan.lists_present),
                "missing": dict(plan.lists_missing),
                "found": dict(plan.lists_found),
                "to_create": dict(plan.lists_to_create),
                "created": dict(self.lists_created),
            },
            "folder": {"id": self.folder_created or plan.folder_id, "name": FOLDER_NAME},
            "webhook": {
                "present": plan.webhook_present,
                "to_create": plan.webhook_to_create.url if plan.webhook_to_create else None,
                "created": self.webhook_created,
            },
            "config_snippet": config_snippet(self.new_list_ids),
            "errors": plan.errors(),
        }


async def read_account(brevo: BrevoClient, *, webhooks: bool = False) -> AccountState:
    """The account's attributes, lists and folders (and marketing webhooks if asked)."""
    attributes = {a.name.upper(): a.type for a in await brevo.list_attributes()}
    lists = {entry.id: (entry.name, entry.folder_id) for entry in await brevo.list_lists()}
    folders = {folder.id: folder.name for folder in await brevo.list_folders()}
    hooks = await brevo.list_webhooks(WEBHOOK_TYPE) if webhooks else []
    return AccountState(
        attributes=attributes,
        lists=lists,
        folders=folders,
        webhooks={w.id: (w.url, tuple(w.events)) for w in hooks},
    )


async def apply_plan(brevo: BrevoClient, plan: SetupPlan) -> SetupResult:
    """Create the attributes, the folder and the lists the plan lists."""
    created: list[str] = []
    for name, kind in plan.attributes_to_create.items():
        await brevo.create_attribute(name, kind, category=ATTRIBUTE_CATEGORY)
        created.append(name)
    folder_id = plan.folder_id
    folder_created = None
    if plan.create_folder:
        folder_id = folder_created = await brevo.create_folder(FOLDER_NAME)
    lists_created: dict[str, int] = {}
    for role, name in plan.lists_to_create.items():
        assert folder_id is not None
        lists_created[role] = await brevo.create_list(name, folder_id)
    webhook_created = None
    if (need := plan.webhook_to_create) is not None:
        webhook_created = await brevo.create_webhook(
            need.url, [WEBHOOK_EVENT], description=WEBHOOK_DESCRIPTION, token=need.token,
            kind=WEBHOOK_TYPE,
        )  # fmt: skip
    return SetupResult(
        plan,
        applied=True,
        attributes_created=tuple(created),
        folder_created=folder_created,
        lists_created=lists_created,
        webhook_created=webhook_created,
    )


async def setup_brevo(brevo: BrevoClient, needs: Needs, *, dry_run: bool) -> SetupResult:
    """Read the account, plan, and (unless ``dry_run``) apply the plan."""
    plan = plan_setup(await read_account(brevo, webhooks=needs.webhook is not None), needs)
    if dry_run:
        return SetupResult(plan, applied=False)
    return await apply_plan(brevo, plan)


def describe(result: SetupResult) -> Sequence[str]:
    """Human-readable lines: one per action taken or pending, then the problems."""
    plan = result.plan
    verb = "created" if result.applied else "would create"
    lines = [f"attribute {name}: OK" for name in plan.attributes_present]
    lines += [
        f"attribute {name} ({kind}): {verb}" for name, kind in plan.attributes_to_create.items()
    ]
    lines += [
        f"attribute {w.name}: WRONG TYPE {w.actual} (needs {w.expected})" for w in plan.wrong_types
    ]
    lines += [f"list {role} = {i}: OK" for role, i in plan.lists_present.items()]
    lines += [f"list {role} = {i}: MISSING in Brevo" for role, i in plan.lists_missing.items()]
    lines += [
        f"list {role}: found {LIST_NAMES[role]!r} (id {i})" for role, i in plan.lists_found.items()
    ]
    if plan.create_folder:
        lines.append(f"folder {FOLDER_NAME!r}: {verb}")
    for role, name in plan.lists_to_create.items():
        made = result.lists_created.get(role)
        lines.append(f"list {role}: {verb} {name!r}" + (f" (id {made})" if made else ""))
    if plan.webhook_present is not None:
        lines.append(f"Brevo webhook listAddition (id {plan.webhook_present}): OK")
    if plan.webhook_to_create is not None:
        made = result.webhook_created
        lines.append(
            f"Brevo webhook listAddition -> {plan.webhook_to_create.url}: {verb}"
            + (f" (id {made})" if made else "")
        )
    return lines
