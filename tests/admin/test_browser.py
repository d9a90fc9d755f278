"""The dashboard in a real headless Chromium, over a store filled by the real sync pipeline.

The sandbox serves the emulated Zoom and Brevo; ``zoom-brevo sync meeting|webinar`` collects
and delivers a recurring meeting and a webinar; one delivery is then dead-lettered and one
import row rejected by hand. The server is ``server.app.create_app`` with the admin and
user-level OAuth routes exactly as ``serve`` wires them. Screenshots go to ``docs/img/``.

Needs Debian's ``chromium`` (``apt-get install chromium``) and the Python ``playwright``
package; Playwright's own browser download is never used.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import structlog
from sqlalchemy.engine import Engine

from tests.conftest import REPO_ROOT, require
from zoom_brevo.admin import charts, queries, site_routes_for
from zoom_brevo.cli.app import run
from zoom_brevo.config import load_settings
from zoom_brevo.crypto import Cipher, generate_key
from zoom_brevo.oauth_tokens import TokenRepository
from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.server.app import create_app, webhook_options
from zoom_brevo.store import facts, outbox
from zoom_brevo.store.engine import create_engine, reading, transaction

# One worker runs the module (scripts/test): Chromium and the site start once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ADMIN_TOKEN = "browser-test-admin-token-4f7c2a"
SCREENSHOTS = REPO_ROOT / "docs" / "img"
VIEWPORT = {"width": 1280, "height": 900}


@dataclass
class Site:
    """The running server and the store behind it."""

    base: str
    engine: Engine
    meeting_uuid: str
    webinar_uuid: str
    dead_ref: str
    zoom_user: TokenRepository


def _sync(config: Path, *args: str) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        assert run(["--config", str(config), "sync", *args, "--json"], {}) == 0
    finally:  # the CLI configures logging globally; leave no trace for other tests
        structlog.reset_defaults()
        root.handlers, root.level = handlers, level


def _world() -> tuple[Scenario, int, int]:
    # The last noon (UTC) that has passed: the webinar and the meeting an hour after it fall
    # on one day whatever the time of the run (near midnight they did not, and the person
    # chart's labels then carried no hour).
    now = datetime.now(UTC)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    sc = Scenario(seed=3, anchor=noon if noon <= now else noon - timedelta(days=1))
    host = sc.user(email="host@example.com", first_name="Sandbox", last_name="Host")
    meeting = sc.meeting(host, topic="Weekly team sync", participants=30, instances=3)
    webinar = sc.webinar(host, topic="Product launch webinar", registrants=40, attendees=28,
                         guests=3, people_offset=10, qa=True, polls=True)  # fmt: skip
    return sc, meeting.id, webinar.id


def _break_one_delivery(engine: Engine) -> str:
    """Dead-letter one command and record one refused import row, as Brevo would."""
    now = datetime.now(UTC)
    with transaction(engine) as conn:
        command = outbox.NewCommand(
            "event", {"email": "late.comer@example.com", "event_name": "zoom_attended",
                      "ledger_key": "browser-test"}, max_attempts=1,
        )  # fmt: skip
        command_id = outbox.add(conn, command, now=now)
        outbox.claim_batch(conn, limit=1, owner="test", lease_s=60, now=now)
        outbox.bury(conn, [command_id], owner="test", now=now,
                    error="400 invalid_parameter: email is not valid")  # fmt: skip
        facts.add_rejections(conn, [facts.Rejection(4711, "not-an-address@", "invalid email")],
                             now=now)  # fmt: skip
    return f"outbox:{command_id}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("browser")
    scenario, meeting_id, webinar_id = _world()
    box = build_sandbox(scenario, enforce_rate_limits=False, prepare_brevo=True)
    port, key = free_port(), generate_key()
    with serving(box.app) as sandbox_url:
        config = folder / "zoom-brevo.yaml"
        text = sandbox_config(sandbox_url, box.list_ids, storage_url=f"sqlite:///{folder / 's.db'}")
        oauth = f"    oauth:\n      redirect_uri: http://127.0.0.1:{port}/oauth/callback\n"
        text = text.replace("    lists:", f"{oauth}    lists:")
        text += f"  encryption_key: {key}\nserver:\n  admin_token: {ADMIN_TOKEN}\n"
        config.write_text(text, "utf-8")
        _sync(config, "meeting", str(meeting_id))
        _sync(config, "webinar", str(webinar_id))
        settings = load_settings(config, {})
        engine = create_engine(settings.storage.url)
        dead_ref = _break_one_delivery(engine)
        with reading(engine) as conn:
            instances = facts.list_instances(conn)
        app = create_app(webhook_options(settings), engine,
                         extra_routes=site_routes_for(settings, engine))  # fmt: skip
        with serving(app, port=port) as base:
            yield Site(
                base=base,
                engine=engine,
                meeting_uuid=next(i.uuid for i in reversed(instances) if i.kind == "meeting"),
                webinar_uuid=next(i.uuid for i in instances if i.kind == "webinar"),
                dead_ref=dead_ref,
                zoom_user=TokenRepository(engine, Cipher([key])),
            )
        engine.dispose()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    """Chromium, started after the site: Playwright's sync API keeps an event loop running."""
    require(Path(CHROMIUM).exists() or shutil.which("chromium") is not None,
            f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")  # fmt: skip
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser: Any, site: Site) -> Iterator[Any]:
    """A page signed in through the login form."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.goto(f"{site.base}/admin/login")
    tab.fill("#token", ADMIN_TOKEN)
    tab.click("form[action='/admin/login'] button[type=submit]")
    tab.wait_for_url("**/admin/meetings")
    yield tab
    context.close()


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_access_without_the_token_is_refused(browser: Any, site: Site) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        tab = context.new_page()
        response = tab.goto(f"{site.base}/admin/operations")
        assert response.status == 401
        assert tab.locator("#token").is_visible()
        assert tab.locator("#dead-letters").count() == 0
        api = context.request.get(f"{site.base}/admin/api/meetings")
        assert api.status == 401
        wrong = context.request.get(f"{site.base}/admin/api/meetings",
                                    headers={"Authorization": "Bearer nope"})  # fmt: skip
        assert wrong.status == 401
    finally:
        context.close()


def test_meetings_page_lists_every_synced_occurrence(page: Any, site: Site) -> None:
    page.goto(f"{site.base}/admin/meetings")
    rows = page.locator("#meetings tbody tr")
    assert rows.count() == 4  # three weekly occurrences and the webinar
    assert page.locator("#meetings .badge.state-collected").count() == 4
    shoot(page, "dashboard-meetings.png")


def test_meeting_page_draws_its_charts_from_the_store(page: Any, site: Site) -> None:
    with reading(site.engine) as conn:
        expected = queries.meeting_detail(conn, site.webinar_uuid)
    assert expected is not None
    page.goto(f"{site.base}/admin/meetings/{quote(site.webinar_uuid, safe='')}")
    line = page.locator("#presence svg.line-chart polyline.series")
    points = line.get_attribute("points").split()
    assert len(points) == len(expected.presence.per_minute) > 30
    bars = page.locator("#histogram svg rect.bar")
    counts = [int(bars.nth(i).get_attribute("data-count")) for i in range(bars.count())]
    assert sum(counts) == expected.meeting.attendees > 0
    funnel = page.locator("#funnel svg rect.bar")
    stages = [int(funnel.nth(i).get_attribute("data-count")) for i in range(funnel.count())]
    assert stages == [s.count for s in expected.funnel]
    assert stages[0] == expected.meeting.registrants
    assert page.locator("#attendees tbody tr").count() == expected.attendee_total
    shoot(page, "dashboard-meeting.png")


def test_attendee_table_sorts_by_the_clicked_column(page: Any, site: Site) -> None:
    page.goto(f"{site.base}/admin/meetings/{quote(site.meeting_uuid, safe='')}")
    page.click("#attendees th >> text=Name")
    names = page.locator("#attendees tbody tr td:first-child").all_inner_texts()
    known = [n for n in names if n != "\N{EN DASH}"]  # unknown name
    assert known == sorted(known, key=str.casefold)


def test_person_page_shows_meetings_and_score_over_time(page: Any, site: Site) -> None:
    page.goto(f"{site.base}/admin/meetings/{quote(site.meeting_uuid, safe='')}")
    page.locator("#attendees tbody a[href*='/admin/people/']").first.click()
    page.wait_for_url("**/admin/people/**")
    rows = page.locator("#meetings tbody tr").count()
    assert rows >= 1
    chart = page.locator("#score svg")
    assert chart.count() == 1
    markers = page.locator("#score svg circle.marker").count()
    assert markers == (rows if rows > 1 else 0)


def people_of(page: Any, site: Site, uuid: str) -> set[str]:
    """The person-page links of a meeting's attendees."""
    page.goto(f"{site.base}/admin/meetings/{quote(uuid, safe='')}")
    links = page.locator("#attendees tbody a[href*='/admin/people/']")
    return set(links.evaluate_all("els => els.map(e => e.getAttribute('href'))"))


def test_every_axis_label_of_the_person_chart_is_drawn_whole(page: Any, site: Site) -> None:
    # Someone at the webinar and at the meeting an hour later: labels carry the hour.
    both = sorted(
        people_of(page, site, site.webinar_uuid) & people_of(page, site, site.meeting_uuid)
    )
    assert both
    page.goto(f"{site.base}{both[0]}")
    chart = page.locator("#score svg").bounding_box()
    ticks = page.locator("#score svg text.tick")
    labels = [ticks.nth(i) for i in range(ticks.count())]
    assert any(":" in label.text_content() for label in labels)  # "Dec 06 14:00"
    for label in labels:
        box = label.bounding_box()
        assert chart["x"] - 0.5 <= box["x"], label.text_content()
        assert box["x"] + box["width"] <= chart["x"] + chart["width"] + 0.5, label.text_content()
    shoot(page, "dashboard-person.png")


def test_no_data_is_said_in_readable_text(page: Any, site: Site) -> None:
    page.goto(f"{site.base}/admin/meetings/{quote(site.meeting_uuid, safe='')}")
    # The narrow card's chart, as the page draws one with nothing to show.
    page.locator("#histogram .chart-box").evaluate(
        "(box, svg) => { box.innerHTML = svg; }", charts.empty_chart("Minutes attended: no data")
    )
    note = page.locator("#histogram .empty-note")
    assert note.text_content() == "Minutes attended: no data"
    assert note.bounding_box()["height"] >= 15  # rendered, not as styled: 9 px when scaled
    font = note.evaluate("el => getComputedStyle(el).fontSize")
    assert float(font.removesuffix("px")) >= 14


def test_unknown_values_are_one_dash_on_every_page(page: Any, site: Site) -> None:
    cells: list[str] = []
    for path in (
        "/admin/meetings",
        f"/admin/meetings/{quote(site.meeting_uuid, safe='')}",
        f"/admin/meetings/{quote(site.webinar_uuid, safe='')}",
        "/admin/operations",
    ):
        page.goto(f"{site.base}{path}")
        cells += page.locator("td, .stat .value").all_inner_texts()
    assert "\N{EN DASH}" in cells  # meetings without registration
    assert not [c for c in cells if c.strip() in {"-", "\N{HYPHEN}", "\N{EM DASH}"}]


def test_retry_button_requeues_the_dead_letter(page: Any, site: Site) -> None:
    page.goto(f"{site.base}/admin/operations")
    assert page.locator("#stat-dead").inner_text() == "1"
    assert page.locator("#rejections tbody").inner_text().count("invalid email") == 1
    assert page.locator("#deliveries tbody tr").count() == queries.RECENT
    shoot(page, "dashboard-operations.png")
    page.click(f"button[data-ref='{site.dead_ref}']")
    page.wait_for_url("**/admin/operations?requeued=1")
    assert "Re-queued 1 dead letter" in page.locator("#requeued").inner_text()
    command_id = int(site.dead_ref.split(":")[1])
    with reading(site.engine) as conn:
        command = outbox.get(conn, command_id)
    assert command is not None
    assert command.state == "queued"
    assert command.attempts == 0


def test_check_runs_on_demand_against_the_configured_services(page: Any, site: Site) -> None:
    page.goto(f"{site.base}/admin/operations")
    assert "Not run yet" in page.locator("#check").inner_text()
    page.click("#check button[type=submit]")
    page.wait_for_url("**/admin/operations*")
    assert "all good" in page.locator("#check").inner_text()


def connect(page: Any, site: Site) -> str:
    """Click the operations page's (re)connect link, through Zoom's consent, back here."""
    page.goto(f"{site.base}/admin/operations")
    state = page.locator("#zoom-user-state").get_attribute("data-state")
    page.click("#zoom-connect")
    page.wait_for_url(f"{site.base}/oauth/callback?**")
    assert page.locator("h1").inner_text() == "Zoom connected"
    return str(state)


def test_the_admin_connects_and_reconnects_the_zoom_user_nobody_else_can(
    page: Any, browser: Any, site: Site
) -> None:
    assert connect(page, site) == "not_connected"
    first = site.zoom_user.load()
    assert first is not None
    # Reconnecting needs admin credentials: the session cookie (Path=/) goes along.
    assert connect(page, site) == "connected"
    second = site.zoom_user.load()
    assert second is not None
    assert second.refresh_token != first.refresh_token
    page.goto(f"{site.base}/admin/operations")
    assert page.locator("#zoom-user-state").inner_text() == "connected"
    context = browser.new_context(viewport=VIEWPORT)
    try:
        refused = context.new_page().goto(f"{site.base}/oauth/authorize")
        assert refused.status == 403
        assert "A Zoom user is already connected" in refused.text()
    finally:
        context.close()
    assert site.zoom_user.load() == second
