"""The configuration reference (``docs/configuration.md``), generated from the settings models.

Every key of :class:`~zoom_brevo.config.settings.Settings` becomes one row: its dotted key,
type, default and description (the attribute docstring under the field). Regenerate with::

    python -m zoom_brevo.config.reference > docs/configuration.md

``tests/config/test_reference.py`` fails when the file is out of date with the models.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, EmailStr, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from zoom_brevo.config.settings import Settings

REGENERATE = "python -m zoom_brevo.config.reference > docs/configuration.md"
_SCALARS: dict[Any, str] = {
    str: "text",
    bool: "boolean",
    int: "integer",
    float: "number",
    SecretStr: "secret text",
    EmailStr: "e-mail address",
}
# Validators in settings.py that narrow a base type; named here by their function's name.
_VALIDATED: dict[str, str] = {
    "_http_url": "URL",
    "_attribute_name": "Brevo attribute name",
}
_BOUNDS: tuple[tuple[type[Any], str, str], ...] = (
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Ge, "ge", ">="),
    (annotated_types.Lt, "lt", "<"),
    (annotated_types.Le, "le", "<="),
)

HEADER = f"""\
# Configuration reference

<!-- Generated from src/zoom_brevo/config/settings.py; do not edit by hand. Regenerate with:
     {REGENERATE} -->

The configuration file is YAML. Its path is `--config PATH`, else `$ZOOM_BREVO_CONFIG`,
else `./zoom-brevo.yaml`; `zoom-brevo init` writes a commented template with every key.

- `${{VAR}}` is replaced by the environment variable `VAR` (an error naming the variable and
  the key when it is not set); `${{VAR:-default}}` falls back to `default` when `VAR` is unset
  or empty; `$$` is a literal `$`.
- Unknown keys are errors, with a "did you mean" hint.
- Secrets (type "secret text") are never printed or logged.
- An empty value (`""`, e.g. from `${{VAR:-}}`) of a key whose default is `null` means
  `null`.
- `zoom-brevo check` loads the file and reports the first problem with its key and line.

Keys marked *required* must be present; every other key may be left out and takes the
default shown. A section whose default is `null` is off until it is written out.
"""


@dataclass(frozen=True, slots=True)
class Key:
    """One leaf setting: dotted key, type, default (as YAML) and description."""

    key: str
    type: str
    default: str
    description: str


@dataclass(frozen=True, slots=True)
class Section:
    """One model: its dotted path, what it is, and its leaf keys."""

    path: str
    summary: str
    optional: bool
    keys: tuple[Key, ...]
    repeated: bool = False  # a list of such entries (e.g. ``from_lists``)


def sections(model: type[BaseModel] = Settings) -> list[Section]:
    """Every section of ``model`` with its leaf keys, depth first, in declaration order."""
    return list(_walk(model, "", optional=False, repeated=False))


def all_keys(model: type[BaseModel] = Settings) -> list[str]:
    """Every dotted key of ``model``, sections and leaves alike."""
    found: list[str] = []
    for section in sections(model):
        if section.path:
            found.append(section.path)
        found.extend(key.key for key in section.keys)
    return found


def _walk(
    model: type[BaseModel], path: str, *, optional: bool, repeated: bool
) -> Iterator[Section]:
    leaves: list[Key] = []
    nested: list[tuple[str, type[BaseModel], bool, bool]] = []
    for name, field in model.model_fields.items():
        dotted = f"{path}.{name}" if path else name
        listed = get_origin(field.annotation) is list
        sub, nullable = _submodel(get_args(field.annotation)[0] if listed else field.annotation)
        if sub is None:
            leaves.append(_key(dotted, field))
        else:
            nested.append((dotted, sub, nullable, listed))
    yield Section(path, _summary(model, path), optional, tuple(leaves), repeated)
    for dotted, sub, nullable, listed in nested:
        yield from _walk(sub, dotted, optional=nullable, repeated=listed)


def _submodel(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (and whether it may be ``null``), or ``None`` for a leaf."""
    args = _union_args(annotation)
    models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    if len(models) != 1:
        return None, False
    return models[0], type(None) in args


def _union_args(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def _key(dotted: str, field: FieldInfo) -> Key:
    required = field.is_required()
    return Key(
        key=dotted,
        type=type_text(field.annotation, field.metadata),
        default="*required*" if required else f"`{yaml_text(_default(field))}`",
        description=" ".join((field.description or "").split()),
    )


def _default(field: FieldInfo) -> Any:
    if field.default is PydanticUndefined and field.default_factory is not None:
        return field.get_default(call_default_factory=True)
    return field.default


def _summary(model: type[BaseModel], path: str) -> str:
    """The first paragraph of the model's docstring, without a leading ``key``: label."""
    doc = (model.__doc__ or "").strip().split("\n\n")[0]
    text = " ".join(doc.split())
    text = text.removeprefix(f"``{path}``:").strip().replace("``", "`")
    return text[:1].upper() + text[1:]


def type_text(annotation: Any, metadata: Sequence[Any] = ()) -> str:
    """A reader's name for a field's type: ``integer > 0 or null``, ```a` | `b```, ..."""
    args = _union_args(annotation)
    if len(args) > 1:
        named = [type_text(a) for a in args if a is not type(None)]
        text = " or ".join(named) + (" or null" if type(None) in args else "")
        return _with_bounds(text, metadata)
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        return type_text(inner, [*extra, *metadata])
    return _with_bounds(_base_text(annotation, metadata), metadata)


def _base_text(annotation: Any, metadata: Sequence[Any]) -> str:
    for item in metadata:
        func = getattr(item, "func", None)
        name = _VALIDATED.get(getattr(func, "__name__", ""))
        if name:
            return name
    origin = get_origin(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{value}`" for value in get_args(annotation))
    if origin is list:
        (item,) = get_args(annotation)
        return f"list of {type_text(item)}"
    return _SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _with_bounds(text: str, metadata: Sequence[Any]) -> str:
    bounds = []
    for item in _flatten(metadata):
        for kind, attr, sign in _BOUNDS:
            if isinstance(item, kind):
                bounds.append(f"{sign} {yaml_text(getattr(item, attr))}")
    if not bounds:
        return text
    first, _, rest = text.partition(" or ")
    return f"{first} {', '.join(bounds)}" + (f" or {rest}" if rest else "")


def _flatten(metadata: Sequence[Any]) -> Iterator[Any]:
    """Constraints, also those inside a ``Field(...)`` used as ``Annotated`` metadata."""
    for item in metadata:
        if isinstance(item, FieldInfo):
            yield from item.metadata
        else:
            yield item


def yaml_text(value: Any) -> str:
    """``value`` as it would be written in the YAML file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_text(v) for v in value) + "]"
    return str(value)


def render(model: type[BaseModel] = Settings) -> str:
    """The whole Markdown document."""
    shown = [_render_section(s) for s in sections(model) if s.path or s.keys]
    return "\n".join([HEADER, *shown])


def _render_section(section: Section) -> str:
    title = f"`{section.path}`" if section.path else "Top level"
    lines = [f"## {title}", ""]
    summary = section.summary
    if section.optional:
        summary += " Optional section: `null` by default (off)."
    if section.repeated:
        summary += " A list, `[]` by default (none); each entry has these keys."
    if summary:
        lines += [summary, ""]
    if section.keys:
        lines += ["| Key | Type | Default | Description |", "|---|---|---|---|"]
        lines += [
            f"| `{k.key}` | {k.type} | {_cell(k.default)} | {_cell(k.description)} |"
            for k in section.keys
        ]
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the reference on standard output."""
    if argv:
        sys.stderr.write(f"usage: {REGENERATE}\n")
        return 2
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
