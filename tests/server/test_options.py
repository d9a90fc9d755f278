"""Settings -> webhook options: the secret is required; the window accepts Zoom's retries."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoom_brevo.config import load_settings
from zoom_brevo.config.template import TEMPLATE
from zoom_brevo.errors import ConfigError
from zoom_brevo.sandbox.combined import WEBHOOK_SECRET, sandbox_config
from zoom_brevo.server.app import webhook_options
from zoom_brevo.zoom.webhooks import DEFAULT_TOLERANCE_S

ZOOM_LAST_RETRY_S = (5 + 20 + 60) * 60  # reference zoom.md 4.3


def test_default_window_outlasts_zoom_retries_and_future_skew_stays_small(tmp_path: Path) -> None:
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(sandbox_config("http://127.0.0.1:9"), "utf-8")
    options = webhook_options(load_settings(path, {}))
    assert options.secret_token == WEBHOOK_SECRET
    assert options.tolerance_s > ZOOM_LAST_RETRY_S
    assert options.max_future_s <= 300
    assert "secret" not in repr(options)


def test_the_init_template_sets_the_same_window(tmp_path: Path) -> None:
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(TEMPLATE, "utf-8")
    env = {"ZOOM_ACCOUNT_ID": "a", "ZOOM_CLIENT_ID": "c", "ZOOM_CLIENT_SECRET": "s"}
    settings = load_settings(path, env | {"BREVO_API_KEY": "k", "ZOOM_WEBHOOK_SECRET": "w"})
    assert settings.connectors.zoom.webhook.tolerance_s == DEFAULT_TOLERANCE_S


def test_serving_without_a_secret_token_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "zoom-brevo.yaml"
    text = sandbox_config("http://127.0.0.1:9").replace(
        f"    webhook:\n      secret_token: {WEBHOOK_SECRET}\n", ""
    )
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=r"connectors\.zoom\.webhook\.secret_token"):
        webhook_options(load_settings(path, {}))
