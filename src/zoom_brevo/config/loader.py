"""Read the YAML file, substitute ``${VAR}`` references and validate into :class:`Settings`.

YAML is composed into nodes first so that every value keeps its line number: error messages
then say ``connectors.zoom.client_id (line 5): ...`` instead of only what went wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from zoom_brevo.config.errors import KeyPath, LineMap, dotted, from_validation_error
from zoom_brevo.config.interpolate import interpolate
from zoom_brevo.config.settings import Settings
from zoom_brevo.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("zoom-brevo.yaml")
CONFIG_ENV_VAR = "ZOOM_BREVO_CONFIG"
_MAX_NODES = 100_000


def config_path(explicit: Path | None, environ: Mapping[str, str]) -> Path:
    """``--config PATH``, else ``$ZOOM_BREVO_CONFIG``, else ``./zoom-brevo.yaml``."""
    if explicit is not None:
        return explicit
    from_env = environ.get(CONFIG_ENV_VAR)
    return Path(from_env) if from_env else DEFAULT_CONFIG_PATH


def load_settings(path: Path, environ: Mapping[str, str]) -> Settings:
    """Load and validate the configuration file at ``path``; raise :class:`ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"configuration file {path} not found (create one with `zoom-brevo init`,"
            f" or pass --config PATH / set {CONFIG_ENV_VAR})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc}") from None
    try:
        return parse_settings(text, environ)
    except ConfigError as exc:
        first, *others = exc.problems
        located = ConfigError(
            f"{path}: {first}", more=[ConfigError(f"{path}: {p}") for p in others]
        )
        located.key, located.line = exc.key, exc.line
        raise located from None


def parse_settings(text: str, environ: Mapping[str, str]) -> Settings:
    """Validate configuration ``text`` (YAML) into :class:`Settings`."""
    data, lines = read_yaml(text, environ)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, lines, Settings) from None


def read_yaml(text: str, environ: Mapping[str, str]) -> tuple[dict[str, Any], LineMap]:
    """Parse YAML ``text`` into plain data with variables substituted, plus key lines."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        where = f" (line {line})" if line else ""
        raise ConfigError(f"not valid YAML{where}: {exc.problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from None
    if root is None:
        raise ConfigError("the file is empty (start from `zoom-brevo init`)")
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError("expected a mapping of keys at the top level")
    lines: LineMap = {}
    try:
        data = _NodeReader(loader, environ, lines).value(root, ())
    finally:
        loader.dispose()
    assert isinstance(data, dict)
    return data, lines


class _NodeReader:
    """Turn YAML nodes into Python values, recording each key's line."""

    def __init__(self, loader: yaml.SafeLoader, environ: Mapping[str, str], lines: LineMap):
        self._loader = loader
        self._environ = environ
        self._lines = lines
        self._budget = _MAX_NODES

    def value(self, node: yaml.Node, path: KeyPath) -> Any:
        self._budget -= 1
        if self._budget < 0:  # aliases can make a small file expand exponentially
            raise ConfigError(f"the file expands to more than {_MAX_NODES} values (aliases?)")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self._item(child, (*path, i)) for i, child in enumerate(node.value)]
        value = self._loader.construct_object(node, deep=True)
        if isinstance(value, str):
            key = dotted(path) or None
            line = node.start_mark.line + 1
            return interpolate(value, self._environ, key=key, line=line)
        return value

    def _item(self, node: yaml.Node, path: KeyPath) -> Any:
        self._lines[path] = node.start_mark.line + 1
        return self.value(node, path)

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        self._reject_duplicates(node, path)
        self._loader.flatten_mapping(node)  # YAML merge keys (<<: *anchor); later keys win
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            self._lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = self.value(value_node, (*path, key))
        return result

    def _key(self, node: yaml.Node, path: KeyPath) -> str:
        key = self._loader.construct_object(node, deep=True)
        if not isinstance(key, str):
            where = dotted((*path, str(key)))
            line = node.start_mark.line + 1
            raise ConfigError(f"keys must be text, got {key!r}", key=where, line=line)
        return key

    def _reject_duplicates(self, node: yaml.MappingNode, path: KeyPath) -> None:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self._key(key_node, path)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ConfigError(
                    "key appears twice in the same mapping", key=dotted((*path, key)), line=line
                )
            seen.add(key)
