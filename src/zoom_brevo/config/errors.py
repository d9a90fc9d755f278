"""Turn pydantic's validation errors into one-line :class:`ConfigError` messages.

Each message names the dotted key, its line in the file and what was expected; an unknown
key gets a "did you mean" hint from the keys allowed at that place.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from zoom_brevo.errors import ConfigError

KeyPath = tuple[str | int, ...]
LineMap = dict[KeyPath, int]

_SECRET_WORDS = ("secret", "token", "key", "password")
_MAX_SHOWN = 40
_REWORDING = (
    ("Input should be greater", "expected a value greater"),
    ("Input should be less", "expected a value less"),
    ("Input should be", "expected"),
)


def from_validation_error(
    exc: ValidationError, lines: LineMap, model: type[BaseModel]
) -> ConfigError:
    """Every problem in ``exc`` as one :class:`ConfigError` (the first, ``more`` the others)."""
    # A misspelt key also makes the real one "missing": report the misspelling first.
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    found = [_problem(error, lines, model) for error in errors]
    first = found[0]
    return ConfigError(first[0], key=first[1], line=first[2], more=[
        ConfigError(message, key=key, line=line) for message, key, line in found[1:]
    ])  # fmt: skip


def _problem(
    error: ErrorDetails, lines: LineMap, model: type[BaseModel]
) -> tuple[str, str | None, int | None]:
    loc: KeyPath = tuple(error["loc"])
    return describe(error, model), dotted(loc) or None, line_of(loc, lines)


def describe(error: ErrorDetails, model: type[BaseModel]) -> str:
    """What is wrong, in words, for one pydantic error."""
    loc: KeyPath = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return _unknown_key(loc, model)
    if kind == "missing":
        return "required key is missing"
    shown = _shown(error.get("input"), loc)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys, got {shown}"
    message = error["msg"].removeprefix("Value error, ")
    for vague, clear in _REWORDING:
        message = message.replace(vague, clear, 1)
    return message if "got " in message else f"{message}, got {shown}"


def dotted(loc: KeyPath) -> str:
    """``("connectors", "zoom", "lists")`` -> ``"connectors.zoom.lists"`` (list items: ``[0]``)."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def line_of(loc: KeyPath, lines: LineMap) -> int | None:
    """Line of ``loc``, else of its nearest ancestor that has one."""
    for end in range(len(loc), 0, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return line
    return None


def allowed_keys(model: type[BaseModel], path: KeyPath) -> list[str]:
    """The keys the settings model accepts at ``path`` (a mapping's location)."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            current = _item_type(current)
            continue
        fields = getattr(_model_of(current), "model_fields", {})
        if part not in fields:
            return []
        current = fields[part].annotation
    found = _model_of(current)
    return list(found.model_fields) if found is not None else []


def _unknown_key(loc: KeyPath, model: type[BaseModel]) -> str:
    name = str(loc[-1])
    allowed = allowed_keys(model, loc[:-1])
    matches = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if matches:
        return f"unknown key {name!r} (did you mean {matches[0]!r}?)"
    if allowed:
        return f"unknown key {name!r} (allowed here: {', '.join(allowed)})"
    return f"unknown key {name!r}"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside ``annotation`` (``Model``, ``Model | None``, ``Annotated``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in _args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _item_type(annotation: Any) -> Any:
    args = _args(annotation)
    return args[0] if args else None


def _args(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, typing.Annotated, list):
        return typing.get_args(annotation)
    return ()


def _shown(value: Any, loc: KeyPath) -> str:
    name = str(loc[-1]).lower() if loc else ""
    if any(word in name for word in _SECRET_WORDS):
        return "a value (hidden)"
    if isinstance(value, dict | list):
        return "a " + ("mapping" if isinstance(value, dict) else "list")
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."
