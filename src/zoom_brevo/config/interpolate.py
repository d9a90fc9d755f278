"""``${VAR}`` and ``${VAR:-default}`` substitution in configuration values (pure).

The rules follow the shell and Docker Compose: ``${VAR}`` is the variable's value (an empty
value is kept); ``${VAR:-default}`` falls back to ``default`` when the variable is unset or
empty; ``$$`` is a literal ``$``. A variable that is unset and has no default is an error
naming the variable and the configuration key it was meant for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from zoom_brevo.errors import ConfigError

_REFERENCE = re.compile(r"\$(?:\$|\{([^}]*)\}|\{)")
_INNER = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>.*))?", re.DOTALL)


def interpolate(
    value: str,
    environ: Mapping[str, str],
    *,
    key: str | None = None,
    line: int | None = None,
) -> str:
    """Return ``value`` with every ``${...}`` reference replaced from ``environ``.

    ``key`` (dotted path) and ``line`` only enrich the :class:`ConfigError` raised for a
    missing variable or a malformed reference.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return _resolve(match.group(1), environ, key=key, line=line)

    return _REFERENCE.sub(replace, value)


def references(value: str) -> list[str]:
    """The variable names referenced in ``value`` (for messages and templates)."""
    names = []
    for match in _REFERENCE.finditer(value):
        inner = _INNER.fullmatch(match.group(1) or "")
        if inner:
            names.append(inner.group("name"))
    return names


def _resolve(
    inner: str | None, environ: Mapping[str, str], *, key: str | None, line: int | None
) -> str:
    parsed = _INNER.fullmatch(inner or "")
    if parsed is None:
        shown = "${" + inner + "}" if inner is not None else "${"
        raise ConfigError(
            f"malformed variable reference {shown!r}: use ${{NAME}} or ${{NAME:-default}}"
            " (write $$ for a literal $)",
            key=key,
            line=line,
        )
    name, default = parsed.group("name"), parsed.group("default")
    current = environ.get(name)
    if default is not None:
        return current if current else default
    if current is None:
        raise ConfigError(
            f"environment variable {name} is not set and ${{{name}}} has no default"
            f" (set {name}, or write ${{{name}:-default}})",
            key=key,
            line=line,
        )
    return current
