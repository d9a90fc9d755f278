"""A person's facts -> Brevo contact attributes, or a counted skip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from zoom_brevo.engagement import EngagementSummary
from zoom_brevo.errors import ConfigError
from zoom_brevo.pipeline.mapping import (
    DEFAULT_FIELD_MAPPING,
    MappedContact,
    PersonFacts,
    Skipped,
    SkipReason,
    attribute_definitions,
    map_people,
    map_person,
    resolve_field_mapping,
    split_display_name,
)

JOIN = datetime(2026, 3, 1, 17, 39, tzinfo=UTC)
SUMMARY = EngagementSummary(
    meetings_attended=3,
    total_minutes=95.04,
    last_attended=datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
    average_ratio=0.8,
    questions=1,
    polls_answered=0,
    score=61.26,
)


def mapped(facts: PersonFacts, **kw: object) -> MappedContact:
    outcome = map_person(facts, **kw)  # type: ignore[arg-type]
    assert isinstance(outcome, MappedContact), outcome
    return outcome


def test_every_fact_lands_in_its_default_attribute() -> None:
    facts = PersonFacts(
        email=" Ann.Lee@Example.COM ",
        first_name="Ann",
        last_name="Lee",
        display_name="Annie L",
        join_time=JOIN,
        minutes=42.06,
        webinar_title="Spring launch",
        attendance_status="attended",
        registration_source="LinkedIn",
        attendance_ratio=0.70123,
        engagement=SUMMARY,
    )
    contact = mapped(facts)
    assert contact.email == "ann.lee@example.com"
    assert contact.attributes == {
        "FIRSTNAME": "Ann",
        "LASTNAME": "Lee",
        "MEETING_JOIN_DATE": "2026-03-01",
        "MEETING_DURATION": 42.1,
        "WEBINAR_NAME": "Spring launch",
        "ATTENDANCE_STATUS": "attended",
        "UTM_SOURCE": "LinkedIn",
        "ZOOM_ATTENDANCE_RATIO": 0.701,
        "ZOOM_ATTENDANCE_PERCENT": 70,
        "ZOOM_MEETINGS_ATTENDED": 3,
        "ZOOM_TOTAL_MINUTES": 95.0,
        "ZOOM_LAST_ATTENDED": "2026-03-02",  # 23:30 at UTC-5 is the next UTC day
        "ZOOM_ENGAGEMENT_SCORE": 61.0,  # whole points
    }


@pytest.mark.parametrize(
    ("first", "last", "display", "expected"),
    [
        pytest.param("Ann", "Lee", "Annie L", ("Ann", "Lee"), id="registrant names win"),
        pytest.param("Ann", None, "Annie Lee", ("Ann", None), id="registrant first name only"),
        pytest.param(None, None, "Ann Lee", ("Ann", "Lee"), id="display name split"),
        pytest.param("  ", "", "Ann Lee", ("Ann", "Lee"), id="blank registrant names ignored"),
        pytest.param(None, None, None, (None, None), id="nothing known"),
    ],
)
def test_names(
    first: str | None, last: str | None, display: str | None, expected: tuple[str | None, ...]
) -> None:
    attrs = mapped(
        PersonFacts("a@x.org", first_name=first, last_name=last, display_name=display)
    ).attributes
    assert (attrs.get("FIRSTNAME"), attrs.get("LASTNAME")) == expected


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("Ann", ("Ann", None)),
        ("Ann Lee", ("Ann", "Lee")),
        ("Ann  Marie   van der Berg", ("Ann", "Marie van der Berg")),
        ("Lee, Ann", ("Ann", "Lee")),
        ("Ann Lee (she/her)", ("Ann", "Lee")),
        ("Ann Lee [Acme]", ("Ann", "Lee")),
        ("Ann Lee | Acme Corp", ("Ann", "Lee")),
        ("ann@example.com", (None, None)),
        ("   ", (None, None)),
        ("", (None, None)),
    ],
)
def test_split_display_name(display: str, expected: tuple[str | None, str | None]) -> None:
    assert split_display_name(display) == expected


def test_missing_and_empty_values_are_omitted_never_sent_blank() -> None:
    facts = PersonFacts(
        "a@x.org", webinar_title="  ", registration_source="", minutes=None, engagement=None
    )
    assert mapped(facts).attributes == {}


def test_zero_is_a_value_and_is_sent() -> None:
    facts = PersonFacts("a@x.org", minutes=0.0, attendance_ratio=0.0, attendance_status="absent")
    assert mapped(facts).attributes == {
        "MEETING_DURATION": 0.0,
        "ZOOM_ATTENDANCE_RATIO": 0.0,
        "ZOOM_ATTENDANCE_PERCENT": 0,
        "ATTENDANCE_STATUS": "absent",
    }


def test_engagement_without_a_last_attendance_omits_that_date() -> None:
    summary = EngagementSummary(0, 0.0, None, None, 0, 0, 0.0)
    attrs = mapped(PersonFacts("a@x.org", engagement=summary)).attributes
    assert "ZOOM_LAST_ATTENDED" not in attrs
    assert attrs["ZOOM_MEETINGS_ATTENDED"] == 0


@pytest.mark.parametrize(
    ("minutes", "ratio", "expected"),
    [
        (12.345, 0.12345, (12.3, 0.123)),
        (59.96, 1.2, (60.0, 1.0)),
        (float("nan"), -0.1, (None, 0.0)),
    ],
)
def test_rounding_and_ratio_bounds(
    minutes: float, ratio: float, expected: tuple[float | None, float]
) -> None:
    attrs = mapped(PersonFacts("a@x.org", minutes=minutes, attendance_ratio=ratio)).attributes
    assert (attrs.get("MEETING_DURATION"), attrs.get("ZOOM_ATTENDANCE_RATIO")) == expected


def test_join_date_is_the_utc_day() -> None:
    tokyo = datetime(2026, 3, 2, 8, 0, tzinfo=timezone(timedelta(hours=9)))
    assert (
        mapped(PersonFacts("a@x.org", join_time=tokyo)).attributes["MEETING_JOIN_DATE"]
        == "2026-03-01"
    )


def test_a_custom_mapping_renames_and_drops_attributes() -> None:
    mapping = {**DEFAULT_FIELD_MAPPING, "name": "PRENOM", "last_name": ""}
    del mapping["duration"]
    facts = PersonFacts("a@x.org", first_name="Ann", last_name="Lee", minutes=5)
    assert mapped(facts, field_mapping=mapping).attributes == {"PRENOM": "Ann"}


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        (None, SkipReason.NO_EMAIL),
        ("", SkipReason.NO_EMAIL),
        ("   ", SkipReason.NO_EMAIL),
        ("Anonymous Attendee", SkipReason.INVALID_EMAIL),
        ("ann@", SkipReason.INVALID_EMAIL),
        ("ann@localhost", SkipReason.INVALID_EMAIL),
        ("ann@@x.org", SkipReason.INVALID_EMAIL),
        ("ann@acme.com", SkipReason.EXCLUDED_DOMAIN),
        ("ANN@ACME.COM", SkipReason.EXCLUDED_DOMAIN),
        ("ann@eu.acme.com", SkipReason.EXCLUDED_DOMAIN),
        ("ann@staff.example.org", SkipReason.EXCLUDED_DOMAIN),
    ],
)
def test_people_without_a_usable_email_are_skipped_with_a_reason(
    email: str | None, reason: SkipReason
) -> None:
    facts = PersonFacts(email, display_name="Guest")
    outcome = map_person(facts, exclude_domains=["acme.com", "@staff.example.org"])
    assert isinstance(outcome, Skipped)
    assert outcome.reason is reason
    assert outcome.facts is facts
    assert "@" not in outcome.detail  # safe to log: the address is not repeated


@pytest.mark.parametrize("email", ["ann@notacme.com", "ann@acme.com.evil.org", "ann@x.org"])
def test_domains_that_only_look_alike_are_not_excluded(email: str) -> None:
    assert isinstance(map_person(PersonFacts(email), exclude_domains=[".acme.com"]), MappedContact)


def test_map_people_counts_the_skipped_by_reason() -> None:
    people = [
        PersonFacts("a@x.org"),
        PersonFacts(None),
        PersonFacts(""),
        PersonFacts("nope"),
        PersonFacts("b@acme.com"),
    ]
    result = map_people(people, exclude_domains=["acme.com"])
    assert [c.email for c in result.contacts] == ["a@x.org"]
    assert len(result.skipped) == 4
    assert result.skipped_by_reason == {
        SkipReason.NO_EMAIL: 2,
        SkipReason.INVALID_EMAIL: 1,
        SkipReason.EXCLUDED_DOMAIN: 1,
    }


def test_naive_join_time_and_unknown_status_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        PersonFacts("a@x.org", join_time=datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="unknown attendance status"):
        PersonFacts("a@x.org", attendance_status="maybe")  # type: ignore[arg-type]


def test_attribute_definitions_follow_the_interface_types() -> None:
    assert attribute_definitions(DEFAULT_FIELD_MAPPING) == {
        "FIRSTNAME": "text",
        "LASTNAME": "text",
        "MEETING_JOIN_DATE": "date",
        "MEETING_DURATION": "float",
        "WEBINAR_NAME": "text",
        "ZOOM_LAST_OCCURRENCE": "text",
        "ZOOM_REPLAY_WATCHED": "date",
        "ATTENDANCE_STATUS": "text",
        "UTM_SOURCE": "text",
        "ZOOM_ATTENDANCE_RATIO": "float",
        "ZOOM_ATTENDANCE_PERCENT": "float",
        "ZOOM_MEETINGS_ATTENDED": "float",
        "ZOOM_TOTAL_MINUTES": "float",
        "ZOOM_LAST_ATTENDED": "date",
        "ZOOM_ENGAGEMENT_SCORE": "float",
    }


def test_attribute_definitions_use_the_configured_names_and_skip_disabled_keys() -> None:
    defs = attribute_definitions(
        {"email": "email", "name": "PRENOM", "duration": "", "join_time": "JOINED"}
    )
    assert defs == {"PRENOM": "text", "JOINED": "date"}


def test_resolve_field_mapping_merges_defaults_and_upper_cases() -> None:
    resolved = resolve_field_mapping({"name": "prenom", "email": "email"})
    assert resolved["name"] == "PRENOM"
    assert resolved["duration"] == "MEETING_DURATION"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nmae": "FIRSTNAME"}, "unknown field 'nmae'"),
        ({"name": "FIRST NAME"}, "not a Brevo attribute name"),
        ({"last_name": "FIRSTNAME"}, "FIRSTNAME is already used for 'name'"),
    ],
)
def test_resolve_field_mapping_rejects_bad_entries(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        resolve_field_mapping(overrides)
    assert info.value.key is not None
    assert info.value.key.startswith("field_mapping.")
