"""Configuration: YAML file + ``${VAR}`` substitution -> typed, validated :class:`Settings`.

Only the CLI and server layers call :func:`load_settings`; they pass the environment in, so
nothing below them reads ``os.environ``.
"""

from zoom_brevo.config.loader import (
    CONFIG_ENV_VAR,
    DEFAULT_CONFIG_PATH,
    config_path,
    load_settings,
    parse_settings,
)
from zoom_brevo.config.settings import (
    BrevoSettings,
    FieldMapping,
    Server,
    Settings,
    Storage,
    ZoomConnector,
)

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_PATH",
    "BrevoSettings",
    "FieldMapping",
    "Server",
    "Settings",
    "Storage",
    "ZoomConnector",
    "config_path",
    "load_settings",
    "parse_settings",
]
