"""``${VAR}`` substitution: shell/Compose rules, errors naming variable and key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoom_brevo.config.interpolate import interpolate, references
from zoom_brevo.errors import ConfigError

ENV = {"HOST": "example.org", "EMPTY": "", "PORT": "8080"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("${HOST}", "example.org"),
        ("https://${HOST}:${PORT}/v2", "https://example.org:8080/v2"),
        ("${MISSING:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${HOST:-fallback}", "example.org"),
        ("${EMPTY}", ""),
        ("${MISSING:-}", ""),
        ("${MISSING:-a:-b}", "a:-b"),
        ("cost: $$5 and $${HOST}", "cost: $5 and ${HOST}"),
        ("a lone $ stays", "a lone $ stays"),
    ],
)
def test_substitutes_like_the_shell(text: str, expected: str) -> None:
    assert interpolate(text, ENV) == expected


def test_missing_variable_without_default_names_variable_key_and_line() -> None:
    with pytest.raises(ConfigError) as caught:
        interpolate("${ZOOM_CLIENT_SECRET}", {}, key="connectors.zoom.client_secret", line=7)
    message = str(caught.value)
    assert "ZOOM_CLIENT_SECRET" in message
    assert message.startswith("connectors.zoom.client_secret (line 7):")
    assert caught.value.key == "connectors.zoom.client_secret"
    assert caught.value.line == 7


@pytest.mark.parametrize("text", ["${}", "${1ABC}", "${A B}", "${unclosed", "${A:default}"])
def test_malformed_reference_is_an_error(text: str) -> None:
    with pytest.raises(ConfigError, match="malformed variable reference"):
        interpolate(text, ENV, key="k")


def test_references_lists_variable_names() -> None:
    assert references("${A}/${B:-x}/$${C}") == ["A", "B"]


@given(st.text().filter(lambda s: "$" not in s))
def test_text_without_dollar_is_unchanged(text: str) -> None:
    assert interpolate(text, {}) == text


@given(st.text(alphabet=st.characters(blacklist_characters="}"), max_size=20))
def test_default_is_used_verbatim_when_unset(default: str) -> None:
    assert interpolate("${UNSET_VAR:-" + default + "}", {}) == default
