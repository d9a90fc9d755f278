"""The server-rendered pages: content, escaping, errors as pages, security headers."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.admin.conftest import sign_in
from tests.admin.seed import LAUNCH, NOW, WEEKLY
from zoom_brevo.admin import views
from zoom_brevo.store import deauthorizations, inbox, outbox
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.outbox import NewCommand


@pytest.fixture
async def browser(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A signed-in client (session cookie)."""
    await sign_in(client)
    return client


def meeting_url(uuid: str, query: str = "") -> str:
    return f"/admin/meetings/{quote(uuid, safe='')}{query}"


async def test_meetings_page_lists_each_occurrence_with_a_link_to_it(
    browser: httpx.AsyncClient,
) -> None:
    html = (await browser.get("/admin/meetings")).text
    assert f'href="{meeting_url(WEEKLY)}"' in html
    assert f'href="{meeting_url(LAUNCH)}"' in html
    assert html.count("<tr>") == 3  # header + two meetings


async def test_topics_and_errors_from_outside_are_escaped(browser: httpx.AsyncClient) -> None:
    meetings = (await browser.get("/admin/meetings")).text
    assert "Weekly &lt;sync&gt;" in meetings
    assert "<sync>" not in meetings
    operations = (await browser.get("/admin/operations")).text
    assert "&lt;b&gt;bad&lt;/b&gt;" in operations


async def test_meeting_page_shows_three_charts_and_the_sortable_table(
    browser: httpx.AsyncClient,
) -> None:
    html = (await browser.get(meeting_url(WEEKLY, "?sort=name&order=asc"))).text
    assert html.count("<svg") == 3
    for css in ("line-chart", "bar-chart", "funnel-chart"):
        assert css in html
    assert 'aria-sort="ascending"' in html
    assert html.index("Alice Liddell") < html.index("Bob Stone") < html.index("Carol")
    assert 'href="/admin/people/alice%40example.com"' in html


async def test_person_page_shows_the_score_chart(browser: httpx.AsyncClient) -> None:
    html = (await browser.get("/admin/people/alice%40example.com")).text
    assert "Alice Liddell" in html
    assert html.count('class="marker"') == 2


async def test_operations_page_has_a_retry_form_per_dead_letter(
    browser: httpx.AsyncClient, refs: dict[str, str]
) -> None:
    html = (await browser.get("/admin/operations")).text
    for ref in refs.values():
        assert f'name="ref" value="{ref}"' in html
    assert "brevo:contacts" in html


async def test_recent_deliveries_say_what_a_contact_upsert_carried(
    browser: httpx.AsyncClient,
) -> None:
    html = (await browser.get("/admin/operations")).text
    deliveries = html[html.index('id="deliveries"') : html.index('id="rejections"')]
    assert "<td>contact</td><td>alice@example.com</td><td>2 attributes; list 3</td>" in deliveries
    assert "<td></td>" not in deliveries


def test_unknown_values_show_one_dash_everywhere() -> None:
    assert views.MISSING == "\N{EN DASH}"
    assert views.fmt_time(None) == views.fmt_number(None) == views.fmt_ratio(None) == "\N{EN DASH}"
    for template in (Path(views.__file__).parent / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "'-'" not in text and "'\N{EN DASH}'" not in text, template.name


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (meeting_url("no such meeting"), 404),
        ("/admin/people/nobody%40example.com", 404),
        ("/admin/people/nobody", 400),
        ("/admin/meetings?page=-1", 400),
        (meeting_url(WEEKLY, "?sort=drop+table"), 400),
        ("/admin/nowhere", 404),
    ],
)
async def test_bad_addresses_get_an_error_page_not_a_500(
    browser: httpx.AsyncClient, url: str, status: int
) -> None:
    response = await browser.get(url)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert "status-code" in response.text


async def test_retry_with_a_malformed_reference_is_a_bad_request(
    browser: httpx.AsyncClient,
) -> None:
    html = (await browser.get("/admin/operations")).text
    csrf = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = await browser.post(
        "/admin/operations/retry", data={"ref": "x:1", "csrf_token": csrf}
    )
    assert response.status_code == 400


async def test_every_admin_response_carries_a_strict_content_security_policy(
    client: httpx.AsyncClient,
) -> None:
    for url in ("/admin/login", "/admin/meetings", "/admin/api/meetings"):
        headers = (await client.get(url)).headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert "script-src" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"


async def test_the_stylesheet_is_served_without_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/static/admin.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


async def test_operations_page_shows_a_deauthorized_account_and_unprocessed_webhooks(
    browser: httpx.AsyncClient, engine: Engine
) -> None:
    before = (await browser.get("/admin/operations")).text
    assert 'id="deauthorized"' not in before
    assert 'id="not-processed"' not in before
    with transaction(engine) as conn:
        deauthorizations.record(conn, "AAAAAABBBB", "ignored", now=NOW)
        deauthorizations.record(conn, "x1yCzABCDEfg23HiJKl4mN", "erased", now=NOW)
        row = inbox.insert(conn, dedupe_key="k", event_type="app_deauthorized",
                           raw_body=b"{}", headers={}, now=NOW)  # fmt: skip
        assert row is not None
        inbox.mark(conn, row, "ignored", error="deauthorization of another account", now=NOW)
    html = (await browser.get("/admin/operations")).text
    assert "The Zoom account x1yCzABCDEfg23HiJKl4mN removed the app" in html
    assert "Deauthorizations of other Zoom accounts ignored: 1." in html
    assert "deauthorization of another account" in html


async def test_scores_are_shown_in_whole_points_as_they_are_sent(
    browser: httpx.AsyncClient,
) -> None:
    # Scores are whole points (docs/engagement.md, section 4); "74.0" suggests a precision
    # the score does not have.
    html = (await browser.get("/admin/people/alice%40example.com")).text
    shown = re.search(r'id="stat-score">([^<]+)<', html)
    assert shown is not None
    assert re.fullmatch(r"\d{1,3}", shown.group(1)), shown.group(1)


async def test_held_events_are_marked_on_the_operations_page_and_released_by_retry(
    browser: httpx.AsyncClient, engine: Engine
) -> None:
    with transaction(engine) as conn:
        outbox.add_many(conn, [NewCommand("event", {"email": "held@example.com"})], now=NOW)
        held = outbox.claim_batch(conn, limit=10, owner="vm:1", lease_s=8, now=NOW)[-1]
        outbox.mark_sending(conn, [held.id], owner="vm:1", now=NOW)
        outbox.bury(conn, [held.id], owner="vm:1", error="in doubt, held: listing 403",
                    now=NOW, in_doubt=True)  # fmt: skip
    html = (await browser.get("/admin/operations")).text
    stat = re.search(r'id="stat-in-doubt".*?</div>', html, re.S)
    assert stat is not None and "1 held" in stat.group(0)
    row = re.search(rf'<tr>\s*<td class="mono nowrap">outbox:{held.id}</td>.*?</tr>', html, re.S)
    assert row is not None and ">held</span>" in row.group(0)
    assert "in doubt, held: listing 403" in row.group(0)

    csrf = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    data = {"ref": f"outbox:{held.id}", "csrf_token": csrf}
    assert (await browser.post("/admin/operations/retry", data=data)).status_code < 400
    with reading(engine) as conn:
        assert outbox.in_doubt(conn) == {"pending": 0, "held": 0}
    after = (await browser.get("/admin/operations")).text
    assert f">outbox:{held.id}<" not in after
