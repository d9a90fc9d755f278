"""Grouping one meeting's session rows into people."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.engagement.strategies import at
from zoom_brevo.engagement import SessionRow, group_by_person


def row(start: int = 0, end: int = 10, **ids: str) -> SessionRow:
    return SessionRow(at(start), at(end), "in_meeting", **ids)


def keys(rows: list[SessionRow]) -> list[str]:
    return [g.person.key for g in group_by_person(rows)]


def test_rows_with_the_same_zoom_user_are_one_person() -> None:
    rows = [
        row(session_id="s1", participant_user_id="u1"),
        row(session_id="s2", participant_user_id="u1"),
    ]
    assert keys(rows) == ["user:u1"]


def test_registrant_id_groups_when_there_is_no_user_id() -> None:
    rows = [row(registrant_id="r1", name="Ann"), row(registrant_id="r1", name="Ann B")]
    assert keys(rows) == ["registrant:r1"]


def test_emails_match_case_and_space_insensitively() -> None:
    rows = [row(email="Ann@Example.com "), row(email="ann@example.com")]
    [group] = group_by_person(rows)
    assert group.person.key == "email:ann@example.com"
    assert group.person.email == "ann@example.com"
    assert len(group.rows) == 2


def test_a_row_with_user_id_and_email_links_both_identities() -> None:
    rows = [
        row(0, 10, participant_user_id="u1"),
        row(20, 30, participant_user_id="u1", email="ann@example.com"),
        row(40, 50, email="ann@example.com"),
    ]
    [group] = group_by_person(rows)
    assert group.person.key == "user:u1"
    assert group.person.email == "ann@example.com"
    assert len(group.rows) == 3


def test_linking_is_transitive_through_registrant_and_session() -> None:
    rows = [
        row(0, 10, session_id="s1", email="ann@example.com"),
        row(0, 10, session_id="s1", registrant_id="r1"),
        row(20, 30, registrant_id="r1", participant_user_id="u1"),
    ]
    assert keys(rows) == ["user:u1"]


def test_different_people_stay_apart() -> None:
    rows = [
        row(email="ann@example.com"),
        row(email="bob@example.com"),
        row(participant_user_id="u9"),
    ]
    assert keys(rows) == ["email:ann@example.com", "email:bob@example.com", "user:u9"]


def test_guests_without_email_are_separated_by_session_not_by_name() -> None:
    rows = [row(session_id="s1", name="iPhone"), row(session_id="s2", name="iPhone")]
    assert keys(rows) == ["session:s1", "session:s2"]


def test_guests_without_any_identifier_stay_one_person_per_row() -> None:
    rows = [row(0, 10, name="Guest"), row(20, 30, name="Guest")]
    assert len(group_by_person(rows)) == 2


def test_the_name_comes_from_the_earliest_row_that_has_one() -> None:
    rows = [row(30, 40, email="a@x.org", name="Late"), row(0, 10, email="a@x.org", name=" Ann ")]
    [group] = group_by_person(rows)
    assert group.person.name == "Ann"


identified_rows = st.lists(
    st.builds(
        row,
        st.integers(0, 60),
        st.integers(0, 60),
        participant_user_id=st.sampled_from(["", "u1", "u2"]),
        email=st.sampled_from(["", "a@x.org", "b@x.org"]),
        session_id=st.sampled_from(["", "s1", "s2", "s3"]),
    ),
    max_size=8,
)


@given(identified_rows.flatmap(lambda rs: st.tuples(st.just(rs), st.permutations(rs))))
def test_grouping_does_not_depend_on_row_order(
    pair: tuple[list[SessionRow], list[SessionRow]],
) -> None:
    original, shuffled = pair
    assert group_by_person(original) == group_by_person(shuffled)


@given(identified_rows)
def test_every_row_lands_in_exactly_one_person(rows: list[SessionRow]) -> None:
    grouped = [r for g in group_by_person(rows) for r in g.rows]
    assert sorted(map(repr, grouped)) == sorted(map(repr, rows))
