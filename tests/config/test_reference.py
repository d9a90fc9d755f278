"""docs/configuration.md is generated from the settings models and must stay in step."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, SecretStr

from zoom_brevo.config import reference
from zoom_brevo.config.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def model_keys(model: type[BaseModel], prefix: str = "") -> dict[str, bool]:
    """Dotted key -> whether it is a leaf, walked straight from ``model_fields``."""
    found: dict[str, bool] = {}
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        args = typing.get_args(field.annotation) or (field.annotation,)
        subs = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        found[key] = not subs
        for sub in subs:
            found.update(model_keys(sub, f"{key}."))
    return found


def test_the_committed_reference_is_what_the_models_generate() -> None:
    assert DOC.read_text(encoding="utf-8") == reference.render(), (
        f"docs/configuration.md is out of date; regenerate it with: {reference.REGENERATE}"
    )


def test_every_key_of_the_model_is_in_the_reference() -> None:
    text = DOC.read_text(encoding="utf-8")
    keys = model_keys(Settings)
    missing = [key for key in keys if f"`{key}`" not in text]
    assert not missing
    assert "connectors.zoom.webhook.tolerance_s" in keys  # the walk reaches nested sections


def test_the_generator_lists_exactly_the_model_keys() -> None:
    assert sorted(reference.all_keys()) == sorted(model_keys(Settings))


def test_every_leaf_key_has_a_description() -> None:
    undocumented = [
        key.key for section in reference.sections() for key in section.keys if not key.description
    ]
    assert not undocumented, (
        "add a docstring under these fields in src/zoom_brevo/config/settings.py, then "
        f"regenerate docs/configuration.md: {undocumented}"
    )


def test_required_keys_are_marked_and_defaults_are_written_as_yaml() -> None:
    rows = {key.key: key for section in reference.sections() for key in section.keys}
    assert rows["brevo.api_key"].default == "*required*"
    assert rows["connectors.zoom.collect.delay_s"].default == "`300`"
    assert rows["connectors.zoom.sync.participants"].default == "`true`"
    assert rows["connectors.zoom.lists.webinar_absentees"].default == "`null`"
    assert rows["connectors.zoom.exclude_domains"].default == "`[]`"


def test_optional_sections_say_they_are_off_by_default() -> None:
    optional = {s.path for s in reference.sections() if s.optional}
    assert optional == {"connectors.zoom.oauth", "brevo.recordings.sender"}
    assert "Optional section: `null` by default (off)." in reference.render()


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (bool, "boolean"),
        (SecretStr | None, "secret text or null"),
        (Literal["a", "b"], "`a` \\| `b`"),
        (list[str], "list of text"),
        (Annotated[int, Field(gt=0)] | None, "integer > 0 or null"),
        (Annotated[float, Field(ge=0)], "number >= 0"),
    ],
)
def test_types_read_as_words(annotation: Any, expected: str) -> None:
    assert reference.type_text(annotation) == expected


def test_a_secret_default_is_never_rendered() -> None:
    class WithSecret(BaseModel):
        token: SecretStr = SecretStr("s3cret")
        """A secret."""

    assert "s3cret" not in reference.render(WithSecret)


def test_running_the_module_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert reference.main([]) == 0
    assert capsys.readouterr().out == reference.render()


def test_the_module_refuses_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert reference.main(["--write"]) == 2
    assert reference.REGENERATE in capsys.readouterr().err
