"""Loading the configuration file: the spec's example, defaults, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoom_brevo.config import config_path, load_settings, parse_settings
from zoom_brevo.config.template import TEMPLATE, TEMPLATE_ENV_VARS
from zoom_brevo.errors import ConfigError

# The connector specification's example, verbatim (INTERFACE.md "Configuration file").
SPEC_EXAMPLE = """\
connectors:
  zoom:
    enabled: true
    account_id: "${ZOOM_ACCOUNT_ID}"
    client_id: "${ZOOM_CLIENT_ID}"
    client_secret: "${ZOOM_CLIENT_SECRET}"
    sync:
      participants: true
      webinars: true
      recordings: true
    webhook:
      secret_token: "${ZOOM_WEBHOOK_SECRET}"
      verification_token: "${ZOOM_VERIFICATION_TOKEN}"   # legacy, optional
    lists:
      meeting_participants: 15
      webinar_attendees: 16
      webinar_registrants: 17
    debug: false
    log_level: info          # verbose | debug | info | warning | error
    log_webhooks: false
field_mapping:
  email: email
  name: FIRSTNAME
  join_time: MEETING_JOIN_DATE
  duration: MEETING_DURATION
  webinar_title: WEBINAR_NAME
  attendance_status: ATTENDANCE_STATUS
  registration_source: UTM_SOURCE
"""

SPEC_ENV = {
    "ZOOM_ACCOUNT_ID": "acct-1",
    "ZOOM_CLIENT_ID": "cid-1",
    "ZOOM_CLIENT_SECRET": "zoom-secret",
    "ZOOM_WEBHOOK_SECRET": "whsec",
    "ZOOM_VERIFICATION_TOKEN": "vtoken",
    "BREVO_API_KEY": "xkeysib-test",
}

# The project's own required key, added after the spec's example.
BREVO_SECTION = 'brevo:\n  api_key: "${BREVO_API_KEY}"\n'

MINIMAL = """\
connectors:
  zoom:
    account_id: acct
    client_id: cid
    client_secret: secret
brevo:
  api_key: key
"""


def test_spec_example_loads_unchanged() -> None:
    settings = parse_settings(SPEC_EXAMPLE + BREVO_SECTION, SPEC_ENV)
    zoom = settings.connectors.zoom
    assert zoom.enabled is True
    assert (zoom.account_id, zoom.client_id) == ("acct-1", "cid-1")
    assert zoom.client_secret.get_secret_value() == "zoom-secret"
    assert zoom.webhook.secret_token is not None
    assert zoom.webhook.secret_token.get_secret_value() == "whsec"
    assert zoom.lists.ids() == {
        "meeting_participants": 15,
        "webinar_attendees": 16,
        "webinar_registrants": 17,
    }
    assert zoom.log_level == "info"
    assert settings.field_mapping.registration_source == "UTM_SOURCE"
    assert settings.brevo.api_key.get_secret_value() == "xkeysib-test"


def test_defaults_for_keys_the_project_adds() -> None:
    settings = parse_settings(MINIMAL, {})
    zoom = settings.connectors.zoom
    assert zoom.api_base_url == "https://api.zoom.us/v2"
    assert zoom.oauth_base_url == "https://zoom.us"
    assert zoom.plan == "pro"
    assert zoom.lists.webinar_absentees is None
    assert (zoom.collect.delay_s, zoom.collect.reconcile_after_s) == (300, 86400)
    assert zoom.exclude_domains == []
    assert settings.brevo.base_url == "https://api.brevo.com/v3"
    assert settings.brevo.plan == "general"
    assert settings.brevo.recordings.mode == "event"
    assert settings.brevo.recordings.template_id is None
    assert settings.storage.url == "sqlite:///zoom-brevo.db"
    assert settings.storage.encryption_key is None
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8080)
    assert settings.server.admin_token is None
    assert settings.field_mapping.engagement_score == "ZOOM_ENGAGEMENT_SCORE"
    assert settings.field_mapping.last_name == "LASTNAME"


def test_template_loads_given_its_variables() -> None:
    env = {name: f"value-of-{name.lower()}" for name in TEMPLATE_ENV_VARS}
    settings = parse_settings(TEMPLATE, env)
    assert settings.connectors.zoom.webhook.secret_token is None
    assert (
        settings.connectors.zoom.client_secret.get_secret_value() == "value-of-zoom_client_secret"
    )


def test_template_mentions_both_plans() -> None:
    assert "plan: pro" in TEMPLATE
    assert "plan: general" in TEMPLATE


def test_template_lists_every_setting() -> None:
    # Every default the models know appears in the template, so `init` documents them all.
    settings = parse_settings(TEMPLATE, dict.fromkeys(TEMPLATE_ENV_VARS, "x"))
    for logical, attribute in settings.field_mapping:
        shown = {None: "null", "{}": "{}"}.get(attribute if attribute is None else str(attribute))
        assert f"{logical}: {shown or attribute}" in TEMPLATE
    for key in type(settings.connectors.zoom).model_fields:
        assert f"    {key}:" in TEMPLATE
    for key in type(settings.delivery).model_fields:
        assert f"\n  {key}: " in TEMPLATE


def test_missing_variable_names_variable_key_and_line() -> None:
    env = {k: v for k, v in SPEC_ENV.items() if k != "ZOOM_CLIENT_SECRET"}
    with pytest.raises(ConfigError) as caught:
        parse_settings(SPEC_EXAMPLE + BREVO_SECTION, env)
    assert "ZOOM_CLIENT_SECRET" in str(caught.value)
    assert caught.value.key == "connectors.zoom.client_secret"
    assert caught.value.line == 6


def test_unknown_key_suggests_the_close_one() -> None:
    text = MINIMAL.replace("client_id: cid", "clientid: cid")
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, {})
    assert "did you mean 'client_id'" in str(caught.value)
    assert caught.value.key == "connectors.zoom.clientid"
    assert caught.value.line == 4


def test_unknown_logical_field_is_rejected_with_a_hint() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(MINIMAL + "field_mapping:\n  last_nme: SURNAME\n", {})
    assert caught.value.key == "field_mapping.last_nme"
    assert "did you mean 'last_name'" in str(caught.value)


def test_unknown_key_without_close_match_lists_allowed_keys() -> None:
    with pytest.raises(ConfigError, match="allowed here: host, port, admin_token"):
        parse_settings(MINIMAL + "server:\n  zzz: 1\n", {})


@pytest.mark.parametrize(
    ("snippet", "key", "line", "expected"),
    [
        ("server:\n  port: eighty\n", "server.port", 9, "integer"),
        ("server:\n  port: 70000\n", "server.port", 9, "less than or equal to 65535"),
        ("brevo2: {}\n", "brevo2", 8, "did you mean 'brevo'"),
        ("storage: sqlite\n", "storage", 8, "expected a mapping"),
    ],
)
def test_wrong_value_names_key_line_and_expectation(
    snippet: str, key: str, line: int, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(MINIMAL + snippet, {})
    assert caught.value.key == key
    assert caught.value.line == line
    assert expected in str(caught.value)


def _zoom_with(extra: str) -> str:
    return MINIMAL.replace("    client_secret: secret\n", f"    client_secret: secret\n{extra}")


@pytest.mark.parametrize(
    ("extra", "key", "expected"),
    [
        ("    lists:\n      webinar_attendees: abc\n", "lists.webinar_attendees", "integer"),
        ("    lists:\n      webinar_attendees: 0\n", "lists.webinar_attendees", "greater than 0"),
        ("    lists:\n      webinar_attendees: -4\n", "lists.webinar_attendees", "greater"),
        ("    lists:\n      webinar_attendees: true\n", "lists.webinar_attendees", "whole number"),
        ("    api_base_url: ftp://files\n", "api_base_url", "http:// or https://"),
        ("    oauth_base_url: zoom.us\n", "oauth_base_url", "http:// or https://"),
        ("    log_level: loud\n", "log_level", "'verbose', 'debug', 'info', 'warning' or 'error'"),
        ("    plan: gold\n", "plan", "'free', 'pro' or 'business'"),
        ("    enabled: maybe\n", "enabled", "boolean"),
        ("    collect:\n      delay_s: -1\n", "collect.delay_s", "greater than or equal to 0"),
        (
            "    sync:\n      attendance_tiers: [90, 0]\n",
            "sync.attendance_tiers[1]",
            "greater than or equal to 1",
        ),
        (
            "    sync:\n      attendance_tiers: [101]\n",
            "sync.attendance_tiers[0]",
            "less than or equal to 100",
        ),
        ("    sync:\n      attendance_tiers: [true]\n", "sync.attendance_tiers[0]", "whole number"),
        (
            "    sync:\n      attendance_tiers: [50, 90, 50]\n",
            "sync.attendance_tiers",
            "each tier once, got 50 more than once",
        ),
        ("    sync:\n      attendance_tiers: 50\n", "sync.attendance_tiers", "list"),
        ("    sync:\n      replay_days: -1\n", "sync.replay_days", "greater than or equal to 0"),
        ("    sync:\n      replay_days: 31\n", "sync.replay_days", "less than or equal to 30"),
        ("    sync:\n      replay_days: yes\n", "sync.replay_days", "whole number"),
    ],
)
def test_zoom_values_are_validated(extra: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(_zoom_with(extra), {})
    assert caught.value.key == f"connectors.zoom.{key}"
    assert caught.value.line in (6, 7)
    assert expected in str(caught.value)


def test_attendance_tiers_are_kept_highest_first() -> None:
    settings = parse_settings(_zoom_with("    sync:\n      attendance_tiers: [50, 90]\n"), {})
    assert settings.connectors.zoom.sync.attendance_tiers == [90, 50]


def test_replay_days_default_to_a_week_and_zero_turns_them_off() -> None:
    assert parse_settings(_zoom_with(""), {}).connectors.zoom.sync.replay_days == 7
    off = parse_settings(_zoom_with("    sync:\n      replay_days: 0\n"), {})
    assert off.connectors.zoom.sync.replay_days == 0


def test_list_ids_from_the_environment_become_integers() -> None:
    text = _zoom_with('    lists:\n      webinar_absentees: "${ABSENTEES}"\n')
    settings = parse_settings(text, {"ABSENTEES": "42"})
    assert settings.connectors.zoom.lists.webinar_absentees == 42


def test_empty_optional_value_from_environment_means_unset() -> None:
    text = _zoom_with('    webhook:\n      secret_token: "${WEBHOOK_SECRET:-}"\n')
    assert parse_settings(text, {}).connectors.zoom.webhook.secret_token is None


def test_brevo_plan_is_validated() -> None:
    with pytest.raises(ConfigError, match="'general', 'advanced' or 'extended'") as caught:
        parse_settings(MINIMAL + "  plan: enterprise\n", {})
    assert caught.value.key == "brevo.plan"


def test_base_url_trailing_slash_is_dropped() -> None:
    text = MINIMAL + "  base_url: http://127.0.0.1:9000/brevo/v3/\n"
    assert parse_settings(text, {}).brevo.base_url == "http://127.0.0.1:9000/brevo/v3"


def test_unquoted_numbers_are_text_where_text_is_expected() -> None:
    settings = parse_settings(MINIMAL.replace("account_id: acct", "account_id: 12345"), {})
    assert settings.connectors.zoom.account_id == "12345"


def test_missing_required_key_is_named() -> None:
    with pytest.raises(ConfigError, match="required key is missing") as caught:
        parse_settings(MINIMAL.replace("    client_secret: secret\n", ""), {})
    assert caught.value.key == "connectors.zoom.client_secret"
    assert caught.value.line == 2


def test_secret_values_are_never_echoed_in_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(MINIMAL.replace("api_key: key", "api_key: [hunter2]"), {})
    assert caught.value.key == "brevo.api_key"
    assert "hunter2" not in str(caught.value)


def test_secrets_do_not_show_in_repr() -> None:
    settings = parse_settings(MINIMAL.replace("client_secret: secret", "client_secret: s3cr3t"), {})
    assert "s3cr3t" not in repr(settings)


def test_several_problems_are_all_listed() -> None:
    text = MINIMAL + "server:\n  port: x\n  host: [1]\n"
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, {})
    problems = caught.value.problems
    assert [p.split(" ")[0] for p in problems] == ["server.host", "server.port"]
    assert str(caught.value) == "; ".join(problems)
    assert (caught.value.key, caught.value.line) == ("server.host", 10)  # the first one's


def test_duplicate_key_is_an_error() -> None:
    with pytest.raises(ConfigError, match="appears twice") as caught:
        parse_settings(MINIMAL + "  api_key: again\n", {})
    assert caught.value.key == "brevo.api_key"
    assert caught.value.line == 8


def test_yaml_merge_keys_are_supported() -> None:
    text = MINIMAL + "x-common: &common {port: 9000}\n"
    with pytest.raises(ConfigError, match="unknown key 'x-common'"):
        parse_settings(text, {})
    merged = MINIMAL + "server:\n  <<: {port: 9000, host: 0.0.0.0}\n  host: 127.0.0.2\n"
    server = parse_settings(merged, {}).server
    assert (server.host, server.port) == ("127.0.0.2", 9000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "file is empty"),
        ("- a\n- b\n", "mapping of keys at the top level"),
        ("connectors: [\n", "not valid YAML"),
        ("a: b\n c: d\n", "not valid YAML"),
    ],
)
def test_malformed_files_are_config_errors(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_settings(text, {})


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="zoom-brevo init"):
        load_settings(tmp_path / "absent.yaml", {})


def test_load_settings_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_settings(path, {}).connectors.zoom.client_id == "cid"


def test_config_path_precedence() -> None:
    explicit = Path("/etc/zb.yaml")
    env = {"ZOOM_BREVO_CONFIG": "/srv/zb.yaml"}
    assert config_path(explicit, env) == explicit
    assert config_path(None, env) == Path("/srv/zb.yaml")
    assert config_path(None, {}) == Path("zoom-brevo.yaml")


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(MINIMAL + "server:\n  port: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})
    assert str(caught.value).startswith(f"{path}: server.port (line 9): ")
    assert (caught.value.key, caught.value.line) == ("server.port", 9)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("client_secret: secret", 'client_secret: "${EMPTY}"', "connectors.zoom.client_secret"),
        ("account_id: acct", 'account_id: ""', "connectors.zoom.account_id"),
        ("api_key: key", "api_key: ${EMPTY}", "brevo.api_key"),
    ],
)
def test_credentials_must_not_be_empty(old: str, new: str, key: str) -> None:
    with pytest.raises(ConfigError, match="non-empty") as caught:
        parse_settings(MINIMAL.replace(old, new), {"EMPTY": ""})
    assert caught.value.key == key


def test_alias_bombs_are_refused() -> None:
    bomb = 'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]\n'
    for level in "bcdefg":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 10) + "]\n"
    with pytest.raises(ConfigError, match="more than 100000 values"):
        parse_settings(bomb, {})


def test_non_text_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="keys must be text") as caught:
        parse_settings(MINIMAL + "server:\n  8080: port\n", {})
    assert caught.value.line == 9


def test_missing_variable_in_a_list_names_the_item() -> None:
    text = _zoom_with('    exclude_domains: ["${OWN_DOMAIN}"]\n')
    with pytest.raises(ConfigError, match="OWN_DOMAIN") as caught:
        parse_settings(text, {})
    assert caught.value.key == "connectors.zoom.exclude_domains[0]"


def test_delivery_lease_defaults_to_eight_seconds() -> None:
    assert parse_settings(MINIMAL, {}).delivery.lease_s == 8.0
    assert parse_settings(MINIMAL + "delivery:\n  lease_s: 30\n", {}).delivery.lease_s == 30.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", "greater than or equal to 2"),
        ("0", "greater than or equal to 2"),
        ("601", "less than or equal to 600"),
        ("soon", "number"),
        ("true", "whole number"),
    ],
)
def test_delivery_lease_is_validated_and_named(value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(MINIMAL + f"delivery:\n  lease_s: {value}\n", {})
    assert caught.value.key == "delivery.lease_s"
    assert caught.value.line == 9
    assert expected in str(caught.value)


REGISTRATION = "    registration:\n      from_lists:\n"
ENTRY = "        - {list_id: 12, webinar_id: 8471}\n"


@pytest.mark.parametrize(
    ("entries", "key", "expected"),
    [
        ("        - {list_id: 12, webinar_id: abc}\n", "from_lists[0].webinar_id", "integer"),
        ("        - {list_id: 0, webinar_id: 84712389925}\n", "from_lists[0].list_id", "greater"),
        ("        - {list_id: 12}\n", "from_lists[0].meeting_id", "required: give webinar_id"),
        (
            "        - {list_id: 12, webinar_id: 8471, meeting_id: 8472}\n",
            "from_lists[0].meeting_id",
            "give webinar_id or meeting_id, not both",
        ),
        ("        - {list_id: 12, meeting_id: abc}\n", "from_lists[0].meeting_id", "integer"),
        (
            ENTRY + "        - {list_id: 12, webinar_id: 1, occurence_id: x}\n",
            "from_lists[1].occurence_id",
            "did you mean 'occurrence_id'",
        ),
        (
            ENTRY + ENTRY,
            "from_lists",
            "each list and webinar or meeting once, got list 12 -> webinar 8471 more than once",
        ),
        ("        - 12\n", "from_lists[0]", "mapping"),
    ],
)
def test_registration_lists_are_validated(entries: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(_zoom_with(REGISTRATION + entries), {})
    assert caught.value.key == f"connectors.zoom.registration.{key}"
    assert expected in str(caught.value)


def test_registration_interval_is_validated() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(_zoom_with("    registration:\n      poll_interval_s: -5\n"), {})
    assert caught.value.key == "connectors.zoom.registration.poll_interval_s"
    assert "greater than or equal to 0" in str(caught.value)


def test_registration_lists_load_with_their_defaults() -> None:
    entries = "        - {list_id: 12, webinar_id: 84712389925, occurrence_id: null}\n"
    zoom = parse_settings(_zoom_with(REGISTRATION + entries), {}).connectors.zoom
    (entry,) = zoom.registration.from_lists
    assert (entry.list_id, entry.webinar_id, entry.occurrence_id) == (12, 84712389925, None)
    assert (entry.kind, entry.zoom_id) == ("webinar", 84712389925)
    assert zoom.registration.poll_interval_s == 300
    assert parse_settings(MINIMAL, {}).connectors.zoom.registration.from_lists == []


def test_a_list_can_feed_a_meeting_and_a_webinar_of_the_same_number() -> None:
    entries = ENTRY + "        - {list_id: 12, meeting_id: 8471, occurrence_id: '1648194360000'}\n"
    zoom = parse_settings(_zoom_with(REGISTRATION + entries), {}).connectors.zoom
    webinar, meeting = zoom.registration.from_lists
    assert (webinar.kind, webinar.zoom_id) == ("webinar", 8471)
    assert (meeting.kind, meeting.zoom_id, meeting.meeting_id) == ("meeting", 8471, 8471)
    assert meeting.webinar_id is None
    assert meeting.occurrence_id == "1648194360000"


HOOK_TOKEN = "0123456789abcdef0123"


@pytest.mark.parametrize(
    ("keys", "key", "expected"),
    [
        ('      brevo_webhook_token: "short"\n', "brevo_webhook_token", "at least 16 characters"),
        (
            "      brevo_webhook_url: https://c.example.com/webhooks/brevo\n",
            "brevo_webhook_url",
            "needs brevo_webhook_token",
        ),
        (
            f'      brevo_webhook_token: "{HOOK_TOKEN}"\n      brevo_webhook_url: not-a-url\n',
            "brevo_webhook_url",
            "URL",
        ),
    ],
)
def test_the_brevo_webhook_keys_are_validated(keys: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(_zoom_with(REGISTRATION + ENTRY + keys), {})
    assert caught.value.key == f"connectors.zoom.registration.{key}"
    assert expected in str(caught.value)
    assert HOOK_TOKEN not in str(caught.value)


def test_the_brevo_webhook_token_is_a_secret() -> None:
    keys = '      brevo_webhook_token: "${HOOK}"\n'
    text = _zoom_with(REGISTRATION + ENTRY + keys)
    registration = parse_settings(text, {"HOOK": HOOK_TOKEN}).connectors.zoom.registration
    assert registration.brevo_webhook_token is not None
    assert registration.brevo_webhook_token.get_secret_value() == HOOK_TOKEN
    assert HOOK_TOKEN not in repr(registration)
