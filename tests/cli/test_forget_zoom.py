"""``forget ADDRESS --zoom``: the person's registrations are deleted in Zoom too.

Real HTTP to the emulated Zoom: the registrations the store knows (with Zoom's registrant
ids) are deleted through ``DELETE /webinars|meetings/{id}/registrants/{id}`` and are then
gone from Zoom's registrant listing; what Zoom's API cannot delete is named. If Zoom
refuses (the app lacks the write scope), nothing is erased locally, so a rerun can finish.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.cli.helpers import Result, invoke
from zoom_brevo.sandbox.combined import (
    ZOOM_ACCOUNT_ID,
    ZOOM_CLIENT_ID,
    ZOOM_CLIENT_SECRET,
    Sandbox,
    build_sandbox,
    sandbox_config,
)
from zoom_brevo.sandbox.scenario import Meeting, Registrant, Webinar
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.sandbox.zoom.auth import SCOPES
from zoom_brevo.store import facts, registrations
from zoom_brevo.store.engine import create_engine, migrate, reading, transaction
from zoom_brevo.zoom_erasure import ZOOM_KEEPS

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Iterator[tuple[Sandbox, str]]:
    box = build_sandbox(enforce_rate_limits=False, prepare_brevo=True)
    with serving(box.app) as base_url:
        yield box, base_url


def webinar(box: Sandbox) -> Webinar:
    return box.scenario.webinars[0]


@pytest.fixture
def store(tmp_path: Path, sandbox: tuple[Sandbox, str]) -> Iterator[tuple[Engine, Path]]:
    box, base_url = sandbox
    url = f"sqlite:///{tmp_path / 'zb.db'}"
    engine = create_engine(url)
    migrate(engine)
    web = webinar(box)
    with transaction(engine) as conn:
        for reg in (web.registrant(0), web.registrant(1)):
            facts.upsert_registrant(conn, _stored(web, reg), now=NOW)
            facts.upsert_person(conn, reg.email, first_name=reg.first_name, now=NOW)
    config = tmp_path / "zoom-brevo.yaml"
    config.write_text(sandbox_config(base_url, box.list_ids, storage_url=url), "utf-8")
    yield engine, config
    engine.dispose()


def _stored(web: Webinar, reg: Registrant, registrant_id: str | None = "") -> facts.Registrant:
    return facts.Registrant(
        kind="webinar", meeting_id=web.id, email=reg.email, status="approved",
        registrant_id=reg.id if registrant_id == "" else registrant_id,
    )  # fmt: skip


def forget(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Result:
    return invoke(capsys, ["--config", str(config), "forget", *args, "--yes"])


def zoom_registrant_emails(box: Sandbox, base_url: str, web: Meeting | Webinar) -> set[str]:
    """The webinar's (or meeting's) registrants as Zoom lists them (real HTTP, all pages)."""
    noun = "meetings" if isinstance(web, Meeting) else "webinars"
    with httpx.Client(base_url=f"{base_url}/zoom") as http:
        token = http.post(
            "/oauth/token",
            data={"grant_type": "account_credentials", "account_id": ZOOM_ACCOUNT_ID},
            auth=(ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        found, page = set(), ""
        while True:
            body = http.get(f"/v2/{noun}/{web.id}/registrants",
                            params={"page_size": 300, "next_page_token": page},
                            headers=headers).json()  # fmt: skip
            found |= {r["email"] for r in body["registrants"]}
            page = body.get("next_page_token") or ""
            if not page:
                return found


def test_forget_zoom_deletes_the_registration_in_zoom_and_names_what_zoom_keeps(
    capsys: pytest.CaptureFixture[str],
    sandbox: tuple[Sandbox, str],
    store: tuple[Engine, Path],
) -> None:
    box, base_url = sandbox
    web = webinar(box)
    ada, bob = web.registrant(0), web.registrant(1)
    assert {ada.email, bob.email} <= zoom_registrant_emails(box, base_url, web)

    result = forget(capsys, store[1], ada.email, "--zoom", "--json")

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["zoom"] == {
        "registrations": [
            {"kind": "webinar", "meeting_id": web.id, "outcome": "deleted", "error": None}
        ],
        "zoom_keeps": list(ZOOM_KEEPS),
    }
    left = zoom_registrant_emails(box, base_url, web)
    assert ada.email not in left
    assert bob.email in left
    with reading(store[0]) as conn:
        assert facts.registrations_of(conn, ada.email) == []
        assert len(facts.registrations_of(conn, bob.email)) == 1
    deletes = [r for r in box.zoom.stats.requests if r.method == "DELETE"]
    assert [(r.raw_path, r.status) for r in deletes] == [
        (f"/zoom/v2/webinars/{web.id}/registrants/{ada.id}", 204)
    ]


def test_gone_and_id_less_registrations_are_reported_and_the_text_names_what_zoom_keeps(
    capsys: pytest.CaptureFixture[str], sandbox: tuple[Sandbox, str], store: tuple[Engine, Path]
) -> None:
    box, _ = sandbox
    web = webinar(box)
    ada = web.registrant(0)
    other = box.scenario.meetings[0]
    with transaction(store[0]) as conn:  # one Zoom no longer has, one stored without an id
        gone = facts.Registrant(kind="meeting", meeting_id=other.id, email=ada.email,
                                status="approved", registrant_id="no-such-registrant")  # fmt: skip
        facts.upsert_registrant(conn, gone, now=NOW)
        facts.upsert_registrant(conn, _stored(web, ada, registrant_id=None), now=NOW)
        facts.upsert_registrant(conn, _stored(web, ada), now=NOW)

    result = forget(capsys, store[1], ada.email, "--zoom")

    assert result.code == 0, result.err
    assert "Zoom registrations: 1 deleted, 1 already gone" in result.out
    assert "Zoom keeps, and its API cannot delete (ask Zoom to remove them):" in result.out
    for item in ZOOM_KEEPS:
        assert item in result.out


def test_without_the_write_scope_nothing_is_erased_and_the_scope_is_named(
    capsys: pytest.CaptureFixture[str], sandbox: tuple[Sandbox, str], store: tuple[Engine, Path]
) -> None:
    box, _ = sandbox
    box.zoom.oauth.scopes = SCOPES  # an app set up for reading only
    ada = webinar(box).registrant(0)

    result = forget(capsys, store[1], ada.email, "--zoom", "--brevo", "--json")

    assert result.code == 1
    document = json.loads(result.out)
    assert document["local"] is None and document["brevo"] is None
    (deletion,) = document["zoom"]["registrations"]
    assert deletion["outcome"] == "failed"
    assert "webinar:write:admin" in result.err
    assert "nothing was erased" in result.err and "run the command again" in result.err
    with reading(store[0]) as conn:  # kept, so that a rerun can still ask Zoom
        assert len(facts.registrations_of(conn, ada.email)) == 1
        assert facts.get_person(conn, ada.email) is not None


@pytest.mark.parametrize("kind", ["webinar", "meeting"])
def test_forget_zoom_deletes_a_registration_that_register_made(
    capsys: pytest.CaptureFixture[str],
    sandbox: tuple[Sandbox, str],
    store: tuple[Engine, Path],
    kind: registrations.Kind,
) -> None:
    box, base_url = sandbox
    web = webinar(box) if kind == "webinar" else box.scenario.meetings[0]
    # known to the store only as a registration `register` made
    cy = web.add_registrant(box.scenario.new_person("cy@example.com", "Cy", "Made"))
    with transaction(store[0]) as conn:
        made = registrations.Registration(kind, web.id, "", cy.email, cy.id, None, "approved")
        registrations.record(conn, made, now=NOW)
        assert facts.registrations_of(conn, cy.email) == []

    result = forget(capsys, store[1], cy.email, "--zoom", "--json")

    assert result.code == 0, result.err
    outcomes = json.loads(result.out)["zoom"]["registrations"]
    assert outcomes == [{"kind": kind, "meeting_id": web.id, "outcome": "deleted", "error": None}]
    assert cy.email not in zoom_registrant_emails(box, base_url, web)
    deletes = [r for r in box.zoom.stats.requests if r.method == "DELETE"]
    assert [(r.raw_path, r.status) for r in deletes] == [
        (f"/zoom/v2/{kind}s/{web.id}/registrants/{cy.id}", 204)
    ]
    with reading(store[0]) as conn:
        assert registrations.of_address(conn, cy.email) == []
