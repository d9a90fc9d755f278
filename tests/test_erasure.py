"""Right to erasure: after ``forget_person`` nothing in any table mentions the person, on
SQLite and PostgreSQL; other people's data stays; anonymous counts are kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Connection, Engine

from tests.store import conftest as store_fixtures
from zoom_brevo import erasure
from zoom_brevo.erasure import (
    ERASED,
    TOMBSTONE_ERROR,
    TOTALS_CURSOR,
    forget_account,
    forget_person,
    matcher_for,
    normalize_address,
    scrub_json,
)
from zoom_brevo.ratelimit import Limit
from zoom_brevo.store import cursors, facts, inbox, jobs, ledger, outbox, ratebuckets, tokens
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.facts import Instance, Recording, Registrant, Rejection, Session
from zoom_brevo.store.outbox import NewCommand
from zoom_brevo.store.schema import metadata

# The store suite's fixtures: ``engine`` is a migrated, empty database of each dialect.
sqlite_template = store_fixtures.sqlite_template
pg_migrated_url = store_fixtures.pg_migrated_url
engine = store_fixtures.engine

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ADA = "ada.lovelace-erase@example.com"
ADA_TYPED = "  Ada.Lovelace-Erase@EXAMPLE.com "
ADA_LOCAL = "ada.lovelace-erase"
BOB = "bob.keeper@example.org"
BOB_LOCAL = "bob.keeper"


# --- a store that knows both people ---------------------------------------------------


def seed(conn: Connection) -> None:
    """Everything the connector stores about Ada and Bob, in every table."""
    seed_facts(conn)
    seed_effects(conn)
    seed_work(conn)
    seed_webhooks(conn)


def seed_facts(conn: Connection) -> None:
    start = NOW - timedelta(hours=2)
    facts.upsert_instance(
        conn,
        Instance("inst-1", 111, "meeting", topic="Weekly", host_email=BOB, start_time=start),
        now=NOW,
    )
    facts.upsert_instance(
        conn,
        Instance(
            "inst-2",
            222,
            "webinar",
            topic=f"Office hours with {ADA.upper()}",
            host_email="Ada.Lovelace-Erase@Example.com",
            details={"alternative_hosts": [ADA, BOB], "contact": f"mailto:{ADA}"},
        ),
        now=NOW,
    )
    sessions = [
        Session(f"email:{ADA}", start, start + timedelta(minutes=30), email=ADA, name="Ada L"),
        Session(f"email:{BOB}", start, start + timedelta(minutes=50), email=BOB, name="Bob K"),
        # A guest who typed the address as display name, without an e-mail field.
        Session("user:u-77", start, start + timedelta(minutes=5), name=ADA.title()),
    ]
    facts.replace_final(conn, "inst-1", sessions, now=NOW)
    facts.record_join(conn, "inst-2", Session(f"email:{ADA}", start, email=ADA), now=NOW)
    for email in (ADA.upper(), BOB):
        facts.upsert_registrant(
            conn, Registrant("webinar", 222, email, "approved", first_name="X"), now=NOW
        )
        facts.upsert_person(conn, email, first_name="First", last_name="Last", now=NOW)
        facts.set_engagement(
            conn,
            email,
            meetings_attended=2,
            total_minutes=80,
            last_attended=start,
            score=3,
            now=NOW,
        )
    facts.add_rejections(conn, [Rejection(9, ADA, "invalid"), Rejection(9, BOB, "dup")], now=NOW)
    files = [
        {"id": "f1", "download_url": f"https://zoom.example/rec?who={ADA_LOCAL}%40example.com"}
    ]
    facts.upsert_recording(conn, Recording("inst-2", 222, NOW, files, topic="Rec"), now=NOW)


def seed_effects(conn: Connection) -> None:
    for email in (ADA, BOB):
        ledger.record_if_new(conn, f"zoom_attended:inst-1:{email}", now=NOW)
    ledger.record_if_new(conn, f"recording_email:inst-2:{ADA}", now=NOW, detail={"n": 1})
    ledger.record_if_new(conn, "campaign:inst-2", now=NOW, detail={"to": [ADA.upper(), BOB]})


def seed_work(conn: Connection) -> None:
    commands = [
        NewCommand("contact", {"email": ADA, "attributes": {"FIRSTNAME": "Ada"}}, f"contact:{ADA}"),
        NewCommand("contact", {"email": BOB, "attributes": {"FIRSTNAME": "Bob"}}, f"contact:{BOB}"),
        NewCommand(
            "event",
            {"event_name": "zoom_attended", "email": ADA, "ledger_key": f"k:{ADA}"},
            f"event:k:{ADA}",
        ),
        NewCommand("event", {"event_name": "zoom_attended", "email": BOB, "ledger_key": "k:b"}),
        NewCommand("campaign", {"list_emails": [ADA, BOB], "note": f"for {ADA} and co"}),
    ]
    outbox.add_many(conn, commands, now=NOW)
    claimed = outbox.claim_batch(conn, limit=1, owner="w1", lease_s=60, now=NOW)
    outbox.bury(conn, [claimed[0].id], owner="w1", error=f"Brevo refused {ADA}", now=NOW)
    jobs.enqueue(conn, "refresh_person", {"email": ADA.upper()}, now=NOW)
    jobs.enqueue(conn, "collect", {"uuid": "inst-1"}, now=NOW, unique_key="collect:inst-1")
    jobs.enqueue(conn, "notify", {"emails": [ADA, BOB]}, now=NOW)
    position = {"process_id": 77, "emails": [ADA, BOB], "checks": 0}
    cursors.save(conn, "brevo_import:77", position, now=NOW)
    cursors.save(conn, "backfill:meetings", {"page": "abc"}, now=NOW)
    tokens.save(conn, "zoom:user:me", b"sealed-bytes", now=NOW)


def webhook(email: str, name: str) -> bytes:
    body = {
        "event": "meeting.participant_joined",
        "payload": {
            "object": {"uuid": "inst-1", "participant": {"email": email, "user_name": name}}
        },
    }
    return json.dumps(body).encode()


def seed_webhooks(conn: Connection) -> None:
    bodies = {
        "ada": webhook("Ada.Lovelace-Erase@Example.COM", "Ada L"),
        "ada-escaped": webhook(ADA, "Ada").replace(b"@", b"\\u0040"),
        "bob": webhook(BOB, "Bob K"),
    }
    for key, raw in bodies.items():
        inbox.insert(conn, dedupe_key=key, event_type="x", raw_body=raw, headers={}, now=NOW)


# --- what the database still holds ----------------------------------------------------


def mentions(conn: Connection, *needles: str) -> list[str]:
    """``table.column`` of every stored value containing one of ``needles`` (any case)."""
    found = []
    for table in metadata.sorted_tables:
        for row in conn.execute(sa.select(table)):
            for column, value in row._asdict().items():
                text = as_text(value).lower()
                if any(needle in text for needle in needles):
                    found.append(f"{table.name}.{column}")
    return found


def as_text(value: Any) -> str:
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
        try:  # JSON escapes (\\u0040, \\u00eb) resolved
            return text + json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def inbox_row(conn: Connection, dedupe_key: str) -> Any:
    table = metadata.tables["inbox"]
    return conn.execute(sa.select(table).where(table.c.dedupe_key == dedupe_key)).one()


def count(conn: Connection, table: sa.Table, *where: Any) -> int:
    return int(
        conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
    )


@pytest.fixture
def seeded(engine: Engine) -> Iterator[Engine]:
    with transaction(engine) as conn:
        seed(conn)
        assert mentions(conn, ADA, ADA_LOCAL)  # the scanner sees Ada before the erasure
    yield engine


# --- forget_person --------------------------------------------------------------------


def test_after_forgetting_no_table_mentions_the_address_or_its_local_part(seeded: Engine) -> None:
    forget_person(seeded, ADA_TYPED, now=NOW)

    with reading(seeded) as conn:
        assert mentions(conn, ADA, ADA_LOCAL) == []


def test_other_peoples_data_stays_intact(seeded: Engine) -> None:
    with reading(seeded) as conn:
        before = sorted(mentions(conn, BOB, BOB_LOCAL))

    forget_person(seeded, ADA, now=NOW)

    with reading(seeded) as conn:
        assert sorted(mentions(conn, BOB, BOB_LOCAL)) == before
        assert facts.get_person(conn, BOB) is not None
        assert [s.email for s in facts.sessions(conn, "inst-1") if s.email] == [BOB]
        assert [r.email for r in facts.list_registrants(conn, "webinar", 222)] == [BOB]
        assert [r.email for r in facts.list_rejections(conn)] == [BOB]
        assert ledger.already_sent(conn, [f"zoom_attended:inst-1:{BOB}"])
        assert cursors.get(conn, "brevo_import:77")["emails"] == [BOB]
        assert jobs.get_by_key(conn, "collect:inst-1") is not None
        assert inbox_row(conn, "bob").raw_body == webhook(BOB, "Bob K")
        instance = facts.get_instance(conn, "inst-2")
        assert instance is not None
        assert instance.host_email is None
        assert instance.topic == f"Office hours with {ERASED}"
        assert instance.details == {"alternative_hosts": [BOB], "contact": f"mailto:{ERASED}"}


def test_the_report_counts_what_was_removed(seeded: Engine) -> None:
    report = forget_person(seeded, ADA, now=NOW)

    assert report.deleted == {
        "people": 1,
        "attendance_sessions": 3,
        "registrants": 1,
        "import_rejections": 1,
        "ledger": 2,
        "outbox": 2,
        "jobs": 1,
    }
    assert report.redacted == {
        "ledger": 1,
        "outbox": 1,
        "jobs": 1,
        "cursors": 1,
        "meeting_instances": 1,
        "recordings": 1,
        "inbox": 2,
    }
    assert report.effects == {"zoom_attended": 1, "recording_email": 1}


def test_anonymous_totals_are_kept_and_add_up(seeded: Engine) -> None:
    forget_person(seeded, ADA, now=NOW)
    forget_person(seeded, BOB, now=NOW)

    with reading(seeded) as conn:
        totals = cursors.get(conn, TOTALS_CURSOR)
        assert mentions(conn, ADA_LOCAL, BOB_LOCAL) == []
    assert totals["person_erasures"] == 2
    assert totals["effects"] == {"recording_email": 1, "zoom_attended": 2}
    assert totals["deleted"]["people"] == 2


def test_forgetting_twice_finds_nothing_the_second_time(seeded: Engine) -> None:
    forget_person(seeded, ADA, now=NOW)

    assert forget_person(seeded, ADA, now=NOW).total == 0


def test_webhooks_become_tombstones_that_still_deduplicate(seeded: Engine) -> None:
    forget_person(seeded, ADA, now=NOW)

    with transaction(seeded) as conn:
        stone = inbox_row(conn, "ada")
        again = inbox.insert(
            conn, dedupe_key="ada", event_type="x", raw_body=b"{}", headers={}, now=NOW
        )
        assert [event.dedupe_key for event in inbox.pending(conn)] == ["bob"]
    assert (stone.raw_body, stone.status, stone.error) == (b"", "ignored", TOMBSTONE_ERROR)
    assert again is None


def test_a_command_being_sent_is_reported_with_its_lease_end(engine: Engine) -> None:
    with transaction(engine) as conn:
        outbox.add(conn, NewCommand("contact", {"email": ADA}, f"contact:{ADA}"), now=NOW)
        outbox.claim_batch(conn, limit=1, owner="w", lease_s=60, now=NOW)

    report = forget_person(engine, ADA, now=NOW)

    assert report.in_flight_until == NOW + timedelta(seconds=60)


def test_an_invalid_address_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="not an e-mail address"):
        forget_person(engine, "not-an-address", now=NOW)


@pytest.mark.parametrize("domain", ["example.com", "b\u00fccher.de"])
def test_an_address_outside_ascii_is_found_by_scanning_every_row(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, domain: str
) -> None:
    zoe, local = f"zo\u00eb.erase@{domain}", "zo\u00eb.erase"
    monkeypatch.setattr(erasure, "BATCH", 2)  # several pages of every table
    with transaction(engine) as conn:
        seed(conn)
        facts.upsert_person(conn, zoe, first_name="Zo\u00eb", now=NOW)
        raw = webhook(f"ZO\u00cb.Erase@{domain.upper()}", "Zo\u00eb")  # escaped by json.dumps
        inbox.insert(conn, dedupe_key="zoe", event_type="x", raw_body=raw, headers={}, now=NOW)
        outbox.add(conn, NewCommand("contact", {"email": zoe}, f"contact:{zoe}"), now=NOW)
        assert len(mentions(conn, local)) == 4

    report = forget_person(engine, zoe.upper(), now=NOW)

    with reading(engine) as conn:
        assert mentions(conn, local) == []
    assert report.deleted == {"people": 1, "outbox": 1}
    assert report.redacted == {"inbox": 1}


# --- forget_account -------------------------------------------------------------------


def test_forgetting_the_account_leaves_no_personal_data_and_keeps_counts(seeded: Engine) -> None:
    with transaction(seeded) as conn:
        ratebuckets.reserve_token(conn, "brevo:contacts", Limit(1.0), now_s=1.0)

    report = forget_account(seeded, "acct-1", now=NOW)

    with reading(seeded) as conn:
        assert mentions(conn, ADA, ADA_LOCAL, BOB, BOB_LOCAL) == []
        assert count(conn, metadata.tables["oauth_tokens"]) == 0
        assert count(conn, metadata.tables["inbox"]) == 3  # tombstones keep dedupe keys
        assert count(conn, metadata.tables["rate_buckets"]) == 1
        totals = cursors.get(conn, TOTALS_CURSOR)
    assert report.effects == {"zoom_attended": 2, "recording_email": 1, "campaign": 1}
    assert totals["account_erasures"] == 1
    assert totals["effects"] == report.effects
    assert report.deleted["people"] == 2


def test_forgetting_the_account_twice_is_harmless(seeded: Engine) -> None:
    forget_account(seeded, "acct-1", now=NOW)

    assert forget_account(seeded, "acct-1", now=NOW).total == 0


# --- matching (pure) ------------------------------------------------------------------

MATCHER = matcher_for(["bob@x.com"])


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("bob@x.com", True),
        ("BOB@X.Com", True),
        ("<Bob@x.com>", True),
        ("mailto:bob@x.com.", True),
        ("?email=bob%40x.com&x=1", True),
        ("jimbob@x.com", False),
        ("jim.bob@x.com", False),
        ("bob@x.com.au", False),
        ("bob@x.community", False),
        ("bob@x-com", False),
    ],
)
def test_a_mention_is_the_whole_address_in_any_case(text: str, found: bool) -> None:
    assert MATCHER.mentions(text) is found


def test_scrubbing_json_drops_list_items_and_keys_and_cuts_text() -> None:
    value = {"to": ["Bob@x.com", "amy@x.com"], "bob@x.com": 1, "note": "cc bob@x.com", "n": 2}

    assert scrub_json(value, MATCHER) == {"to": ["amy@x.com"], "note": f"cc {ERASED}", "n": 2}


def test_json_escapes_in_raw_bodies_are_seen_through() -> None:
    assert MATCHER.mentions(b'{"email": "bob\\u0040x.com"}')


def test_addresses_are_normalised_to_every_stored_form() -> None:
    assert normalize_address(" Bob@B\u00fccher.DE ") == (
        "bob@b\u00fccher.de",
        "bob@xn--bcher-kva.de",
    )


@given(
    st.lists(st.sampled_from(["bob@x.com", "BOB@X.COM", "a", " ", "jimbob@x.com", "\u00e9"])).map(
        "".join
    )
)
def test_redacted_text_never_mentions_the_address(text: str) -> None:
    assert not MATCHER.mentions(MATCHER.redact(text))
