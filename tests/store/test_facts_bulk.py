"""Bulk registrant upserts merge exactly as one-at-a-time upserts do, duplicates included."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.store import facts
from zoom_brevo.store.facts import Registrant
from zoom_brevo.store.schema import registrants

ROWS = [
    Registrant("webinar", 9, "Bo@X.io", "approved", "r1", first_name="Bo", tracking_source="Ads"),
    Registrant("webinar", 9, "ann@x.io", "approved", "r2", last_name="Lee"),
    # The same address again in one batch (other letter case): merged, the newer status wins.
    Registrant("webinar", 9, "bo@x.io", "cancelled", None, join_url="https://z/j"),
    Registrant("webinar", 10, "ann@x.io", "pending"),
]


def test_a_batch_merges_like_the_same_rows_one_by_one(engine: Engine) -> None:
    with engine.begin() as conn:
        facts.upsert_registrants(conn, ROWS, now=NOW)
        bulk = {m: facts.list_registrants(conn, "webinar", m) for m in (9, 10)}
        conn.execute(registrants.delete())
        for row in ROWS:
            facts.upsert_registrant(conn, row, now=NOW)
        single = {m: facts.list_registrants(conn, "webinar", m) for m in (9, 10)}
    assert bulk == single
    assert bulk[9] == [
        Registrant("webinar", 9, "ann@x.io", "approved", "r2", last_name="Lee"),
        Registrant(
            "webinar", 9, "bo@x.io", "cancelled", "r1", first_name="Bo",
            join_url="https://z/j", tracking_source="Ads",
        ),
    ]  # fmt: skip
    assert [r.status for r in bulk[10]] == ["pending"]


def test_an_empty_batch_writes_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        facts.upsert_registrants(conn, [], now=NOW)
        assert facts.list_registrants(conn, "webinar", 9) == []


LISTED = [  # the unfiltered listing: no source on the rows
    Registrant("webinar", 9, "bo@x.io", "approved", "r1", first_name="Bo"),
    Registrant("webinar", 9, "ann@x.io", "approved", "r2", last_name="Lee"),
    Registrant("webinar", 9, "cy@x.io", "approved", "r3"),
]
ADS = [  # the listing filtered by source "Ads": the same registrations, one registered since
    Registrant("webinar", 9, "Bo@X.io", "approved", "r1", first_name="Bo", tracking_source="Ads"),
    Registrant("webinar", 9, "dee@x.io", "approved", "r4", tracking_source="Ads"),
]


def test_adding_a_source_after_the_unfiltered_listing_stores_what_upserting_it_first_did(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        facts.upsert_registrant(conn, Registrant("webinar", 9, "cy@x.io", "approved"), now=NOW)
        facts.upsert_registrants(conn, ADS, now=NOW)
        facts.upsert_registrants(conn, LISTED, now=NOW)
        upserted = facts.list_registrants(conn, "webinar", 9)
        conn.execute(registrants.delete())
        facts.upsert_registrant(conn, Registrant("webinar", 9, "cy@x.io", "approved"), now=NOW)
        facts.upsert_registrants(conn, LISTED, now=NOW)
        emails = [r.email for r in ADS]
        unknown = facts.add_tracking_source(conn, "webinar", 9, emails, "Ads", now=NOW)
        assert unknown == {"dee@x.io"}  # registered since: upserted in full by the caller
        facts.upsert_registrants(conn, [r for r in ADS if r.email in unknown], now=NOW)
        added = facts.list_registrants(conn, "webinar", 9)
    assert added == upserted
    assert [(r.email, r.tracking_source) for r in added] == [
        ("ann@x.io", None),
        ("bo@x.io", "Ads"),
        ("cy@x.io", None),
        ("dee@x.io", "Ads"),
    ]
