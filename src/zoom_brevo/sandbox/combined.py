"""The emulated Zoom and Brevo served as one ASGI app (``zoom-brevo sandbox``, tests, demo).

Zoom lives under ``/zoom`` (API at ``/zoom/v2``, token endpoint ``/zoom/oauth/token``) and
Brevo under ``/brevo`` (API at ``/brevo/v3``). :func:`sandbox_config` writes the
configuration that points the connector at a running sandbox.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import Mount

from zoom_brevo.config.settings import FieldMapping
from zoom_brevo.pipeline.mapping import LOGICAL_TYPES
from zoom_brevo.registration import writeback
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.sandbox.brevo.state import Attribute, BrevoState, ContactList, Folder, iso
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.zoom import ZoomEmulator

ZOOM_ACCOUNT_ID = "sandbox-account"
ZOOM_CLIENT_ID = "sandbox-client-id"
ZOOM_CLIENT_SECRET = "sandbox-client-secret"  # the emulator's own, documented
BREVO_API_KEY = "xkeysib-sandbox"
WEBHOOK_SECRET = "sandbox-webhook-secret"
LIST_ROLES = (
    "meeting_participants",
    "webinar_attendees",
    "webinar_registrants",
    "webinar_absentees",
)


@dataclass(frozen=True)
class Sandbox:
    """Both emulators, the world they show and the combined ASGI ``app``."""

    scenario: Scenario
    zoom: ZoomEmulator
    brevo: BrevoEmulator
    app: Starlette
    list_ids: Mapping[str, int]


def small_scenario(seed: int = 1) -> Scenario:
    """A small world: one host, a recorded team meeting and a webinar with absentees."""
    scenario = Scenario(seed=seed)
    host = scenario.user(email="host@example.com", first_name="Sandbox", last_name="Host")
    scenario.meeting(host, topic="Weekly team sync", participants=12, recording=True)
    scenario.webinar(
        host, topic="Product launch webinar", registrants=30, attendees=18, recording=True
    )
    return scenario


def build_sandbox(
    scenario: Scenario | None = None,
    *,
    prepare_brevo: bool = False,
    zoom_plan: str = "pro",
    brevo_plan: str = "general",
    enforce_rate_limits: bool = True,
) -> Sandbox:
    """Build both emulators over ``scenario`` (default :func:`small_scenario`).

    ``zoom-brevo sandbox`` and ``demo`` serve :func:`zoom_brevo.demo.demo_scenario`.

    Brevo starts as a new account does: without the connector's attributes and lists, so
    that ``setup-brevo`` shows what it creates. ``prepare_brevo`` creates them as
    ``setup-brevo`` would (tests that start from a prepared account).
    """
    world = scenario or small_scenario()
    zoom = ZoomEmulator(
        scenario=world,
        account_id=ZOOM_ACCOUNT_ID,
        client_id=ZOOM_CLIENT_ID,
        client_secret=ZOOM_CLIENT_SECRET,
        plan=zoom_plan,
        clock=time.time,
        enforce_rate_limits=enforce_rate_limits,
    )
    brevo = BrevoEmulator(
        api_keys={BREVO_API_KEY}, enforce_rate_limits=enforce_rate_limits, plan=brevo_plan
    )
    list_ids = prepare_brevo_account(brevo.state) if prepare_brevo else {}
    app = Starlette(routes=[Mount("/zoom", app=zoom.app), Mount("/brevo", app=brevo.app)])
    return Sandbox(scenario=world, zoom=zoom, brevo=brevo, app=app, list_ids=list_ids)


def prepare_brevo_account(state: BrevoState, mapping: FieldMapping | None = None) -> dict[str, int]:
    """Create the attributes setup-brevo would (mapped ones, register's) and one list per
    role; return the list ids by role."""
    wanted = {
        name.upper(): LOGICAL_TYPES.get(logical, "text")
        for logical, name in (mapping or FieldMapping()).attributes().items()
    } | dict(writeback.ATTRIBUTE_TYPES)
    for name, kind in wanted.items():
        if name not in state.attributes:
            state.attributes[name] = Attribute(name=name, category="normal", type=kind)
    folder = Folder(id=state.next_id("folder"), name="Zoom")
    state.folders[folder.id] = folder
    ids = {}
    for role in LIST_ROLES:
        list_id = state.next_id("list")
        name = "Zoom " + role.replace("_", " ")
        state.lists[list_id] = ContactList(list_id, name, folder.id, iso(time.time()))
        ids[role] = list_id
    return ids


def sandbox_config(
    base_url: str, list_ids: Mapping[str, int] | None = None, *, storage_url: str | None = None
) -> str:
    """A complete configuration (YAML) pointing the connector at the sandbox ``base_url``."""
    lines = [f"      {role}: {list_id}" for role, list_id in (list_ids or {}).items()]
    lists = "\n" + "\n".join(lines) if lines else " {}"
    storage = f"storage:\n  url: {storage_url}\n" if storage_url else ""
    return f"""\
connectors:
  zoom:
    account_id: {ZOOM_ACCOUNT_ID}
    client_id: {ZOOM_CLIENT_ID}
    client_secret: {ZOOM_CLIENT_SECRET}
    api_base_url: {base_url}/zoom/v2
    oauth_base_url: {base_url}/zoom
    webhook:
      secret_token: {WEBHOOK_SECRET}
    lists:{lists}
brevo:
  api_key: {BREVO_API_KEY}
  base_url: {base_url}/brevo/v3
{storage}"""
