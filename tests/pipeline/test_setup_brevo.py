"""setup-brevo planning: what the account lacks, what is wrong, what to create (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from zoom_brevo.config import load_settings
from zoom_brevo.pipeline.setup_brevo import (
    FOLDER_NAME,
    LIST_NAMES,
    AccountState,
    Needs,
    SetupResult,
    WebhookNeed,
    WrongType,
    config_snippet,
    needs_of,
    plan_setup,
)

DEFAULT_ATTRS = {"FIRSTNAME": "text", "LASTNAME": "text", "SMS": "text"}


def _account(
    attributes: Mapping[str, str | None] | None = None,
    lists: Mapping[int, tuple[str, int]] | None = None,
    folders: Mapping[int, str] | None = None,
) -> AccountState:
    return AccountState(
        attributes=dict(DEFAULT_ATTRS if attributes is None else attributes),
        lists=dict(lists or {}),
        folders=dict(folders or {}),
    )


@pytest.mark.parametrize(
    ("existing", "wanted", "present", "to_create", "wrong"),
    [
        ({"FIRSTNAME": "text"}, {"FIRSTNAME": "text"}, ["FIRSTNAME"], {}, []),
        ({}, {"ZOOM_TOTAL_MINUTES": "float"}, [], {"ZOOM_TOTAL_MINUTES": "float"}, []),
        ({"firstname": "TEXT"}, {"FIRSTNAME": "text"}, ["FIRSTNAME"], {}, []),  # any case
        ({"MEETING_DURATION": "text"}, {"MEETING_DURATION": "float"}, [], {},
         [WrongType("MEETING_DURATION", "float", "text")]),
        ({"UTM_SOURCE": None}, {"UTM_SOURCE": "text"}, [], {},  # a category attribute
         [WrongType("UTM_SOURCE", "text", None)]),
        ({"A": "date", "B": "float"}, {"A": "date", "B": "date", "C": "text"}, ["A"],
         {"C": "text"}, [WrongType("B", "date", "float")]),
    ],
)  # fmt: skip
def test_attributes_are_present_created_or_reported_with_the_wrong_type(
    existing: dict[str, str | None],
    wanted: dict[str, str],
    present: list[str],
    to_create: dict[str, str],
    wrong: list[WrongType],
) -> None:
    plan = plan_setup(_account(existing), Needs(attributes=wanted, lists={}))
    assert list(plan.attributes_present) == present
    assert dict(plan.attributes_to_create) == to_create
    assert list(plan.wrong_types) == wrong
    assert bool(plan.errors()) == bool(wrong)


def test_a_wrong_type_error_says_what_the_user_must_do() -> None:
    plan = plan_setup(
        _account({"MEETING_DURATION": "text"}),
        Needs(attributes={"MEETING_DURATION": "float"}, lists={}),
    )
    (message,) = plan.errors()
    assert "MEETING_DURATION" in message
    assert "text" in message and "float" in message
    assert "field_mapping" in message


@pytest.mark.parametrize(
    ("lists", "folders", "wanted", "present", "missing", "found", "to_create", "new_folder"),
    [
        # configured and existing
        ({7: ("Mine", 1)}, {1: "Other"}, {"meeting_participants": 7},
         {"meeting_participants": 7}, {}, {}, {}, False),
        # configured but unknown to Brevo: only the user can fix it
        ({}, {}, {"meeting_participants": 99}, {}, {"meeting_participants": 99}, {}, {}, False),
        # null, nothing there yet: folder and list are created
        ({}, {}, {"meeting_participants": None}, {}, {}, {},
         {"meeting_participants": "Zoom - Meeting participants"}, True),
        # null, folder exists: only the list is created
        ({}, {4: FOLDER_NAME}, {"webinar_attendees": None}, {}, {}, {},
         {"webinar_attendees": "Zoom - Webinar attendees"}, False),
        # null, created by an earlier run: found by name, nothing created
        ({12: ("Zoom - Meeting participants", 4)}, {4: FOLDER_NAME},
         {"meeting_participants": None}, {}, {}, {"meeting_participants": 12}, {}, False),
        # a list with the same name in another folder is not ours
        ({12: ("Zoom - Meeting participants", 5)}, {4: FOLDER_NAME, 5: "Sales"},
         {"meeting_participants": None}, {}, {}, {},
         {"meeting_participants": "Zoom - Meeting participants"}, False),
    ],
)  # fmt: skip
def test_lists_are_checked_found_by_name_or_created(  # noqa: PLR0917 (one table row)
    lists: dict[int, tuple[str, int]],
    folders: dict[int, str],
    wanted: dict[str, int | None],
    present: dict[str, int],
    missing: dict[str, int],
    found: dict[str, int],
    to_create: dict[str, str],
    new_folder: bool,
) -> None:
    plan = plan_setup(_account(lists=lists, folders=folders), Needs(attributes={}, lists=wanted))
    assert dict(plan.lists_present) == present
    assert dict(plan.lists_missing) == missing
    assert dict(plan.lists_found) == found
    assert dict(plan.lists_to_create) == to_create
    assert plan.create_folder is new_folder
    assert bool(plan.errors()) == bool(missing)


def test_a_missing_configured_list_names_the_key_to_fix() -> None:
    plan = plan_setup(_account(), Needs(attributes={}, lists={"webinar_registrants": 17}))
    (message,) = plan.errors()
    assert "connectors.zoom.lists.webinar_registrants" in message
    assert "17" in message


def test_a_dry_run_with_pending_changes_is_not_ok_but_an_applied_one_is() -> None:
    plan = plan_setup(_account({}), Needs(attributes={"X": "text"}, lists={}))
    assert not SetupResult(plan, applied=False).ok
    assert SetupResult(plan, applied=True, attributes_created=("X",)).ok
    nothing_to_do = plan_setup(_account({"X": "text"}), Needs(attributes={"X": "text"}, lists={}))
    assert SetupResult(nothing_to_do, applied=False).ok


def test_config_snippet_is_yaml_for_connectors_zoom_lists() -> None:
    snippet = config_snippet({"webinar_attendees": 9, "meeting_participants": 8})
    assert snippet == (
        "connectors:\n  zoom:\n    lists:\n      meeting_participants: 8\n"
        "      webinar_attendees: 9\n"
    )
    assert config_snippet({}) == ""


def _settings(tmp_path: Path, zoom_extra: str = "", top_extra: str = "") -> Needs:
    path = tmp_path / "c.yaml"
    path.write_text(
        "connectors:\n  zoom:\n    account_id: a\n    client_id: b\n    client_secret: c\n"
        f"{zoom_extra}brevo:\n  api_key: k\n{top_extra}",
        encoding="utf-8",
    )
    return needs_of(load_settings(path, {}))


def test_needs_cover_every_mapped_attribute_with_its_brevo_type(tmp_path: Path) -> None:
    needs = _settings(tmp_path, top_extra="field_mapping:\n  duration: zoom_minutes\n")
    assert needs.attributes["FIRSTNAME"] == "text"
    assert needs.attributes["ZOOM_MINUTES"] == "float"  # renamed, upper-cased
    assert "MEETING_DURATION" not in needs.attributes
    assert needs.attributes["MEETING_JOIN_DATE"] == "date"
    assert len(needs.attributes) == 18  # 15 mapped, 3 written back by register


def test_needs_cover_the_attributes_register_writes_back(tmp_path: Path) -> None:
    needs = _settings(tmp_path)
    wanted = {"ZOOM_JOIN_URL": "text", "ZOOM_REGISTRANT_ID": "text", "ZOOM_NEXT_START": "text"}
    assert {name: needs.attributes[name] for name in wanted} == wanted


@pytest.mark.parametrize(
    ("zoom_extra", "expected"),
    [
        ("", {"meeting_participants": None, "webinar_attendees": None,
              "webinar_registrants": None}),
        ("    sync:\n      webinars: false\n", {"meeting_participants": None}),
        ("    sync:\n      participants: false\n      webinars: false\n", {}),
        ("    lists:\n      webinar_absentees: 5\n      meeting_participants: 3\n",
         {"meeting_participants": 3, "webinar_attendees": None, "webinar_registrants": None,
          "webinar_absentees": 5}),
    ],
)  # fmt: skip
def test_needed_lists_follow_the_enabled_features_and_absentees_stay_optional(
    tmp_path: Path, zoom_extra: str, expected: dict[str, int | None]
) -> None:
    needs = _settings(tmp_path, zoom_extra)
    assert dict(needs.lists) == expected
    assert set(expected) <= set(LIST_NAMES)


HOOK_URL = "https://connector.example.com/webhooks/brevo"
HOOK = WebhookNeed(url=HOOK_URL, token="0123456789abcdef")


@pytest.mark.parametrize(
    ("webhooks", "present", "created"),
    [
        ({}, None, True),
        ({4: (HOOK_URL, ("listAddition",))}, 4, False),
        ({4: (HOOK_URL, ("unsubscribed",))}, None, True),  # the event is missing
        ({4: ("https://other.example.com/hook", ("listAddition",))}, None, True),
    ],
)
def test_the_list_addition_webhook_is_created_unless_brevo_has_it(
    webhooks: dict[int, tuple[str, tuple[str, ...]]], present: int | None, created: bool
) -> None:
    account = AccountState(attributes={}, lists={}, folders={}, webhooks=webhooks)
    plan = plan_setup(account, Needs(attributes={}, lists={}, webhook=HOOK))

    assert plan.webhook_present == present
    assert (plan.webhook_to_create == HOOK) is created
    assert plan.has_changes is created
    assert "0123456789abcdef" not in repr(plan)


@pytest.mark.parametrize(
    ("registration", "needed"),
    [
        ("", False),
        ('      brevo_webhook_token: "0123456789abcdef"\n', False),  # no URL: polling only
        (f'      brevo_webhook_token: "0123456789abcdef"\n      brevo_webhook_url: {HOOK_URL}\n',
         True),
    ],
)  # fmt: skip
def test_the_webhook_is_needed_when_its_url_and_token_are_set(
    tmp_path: Path, registration: str, needed: bool
) -> None:
    lists = "      from_lists:\n        - {list_id: 12, webinar_id: 8471}\n"
    needs = _settings(tmp_path, "    registration:\n" + lists + registration)
    assert needs.webhook == (HOOK if needed else None)
