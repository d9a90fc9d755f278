"""``init`` writes a template that loads; configuration errors exit 2 with one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import invoke
from zoom_brevo.cli.app import describe_failure
from zoom_brevo.config import load_settings
from zoom_brevo.config.template import TEMPLATE, TEMPLATE_ENV_VARS
from zoom_brevo.errors import AuthError, ConfigError, RateLimited, StoreError

TEMPLATE_ENV = {name: f"test-{name.lower()}" for name in TEMPLATE_ENV_VARS}


def test_init_writes_a_template_that_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "zb.yaml"
    result = invoke(capsys, ["init", "--path", str(target)])
    assert result.code == 0
    assert target.read_text(encoding="utf-8") == TEMPLATE
    assert "ZOOM_CLIENT_SECRET" in result.err
    settings = load_settings(target, TEMPLATE_ENV)
    assert settings.brevo.api_key.get_secret_value() == "test-brevo_api_key"


def test_init_defaults_to_the_config_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "from-config.yaml"
    assert invoke(capsys, ["--config", str(target), "init"]).code == 0
    assert target.exists()


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "zb.yaml"
    target.write_text("mine\n", encoding="utf-8")
    result = invoke(capsys, ["init", "--path", str(target)])
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert "already exists" in result.err and "--force" in result.err
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert invoke(capsys, ["init", "--path", str(target), "--force"]).code == 0
    assert target.read_text(encoding="utf-8") == TEMPLATE


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_variable_exits_2_naming_variable_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, TEMPLATE)
    env = {k: v for k, v in TEMPLATE_ENV.items() if k != "ZOOM_CLIENT_SECRET"}
    result = invoke(capsys, ["--config", str(path), "check"], env)
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert "ZOOM_CLIENT_SECRET" in result.err
    assert "connectors.zoom.client_secret" in result.err
    assert "line 14" in result.err
    assert result.out == ""


def test_unknown_key_exits_2_with_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, TEMPLATE.replace("    log_webhooks:", "    log_webhook:"))
    result = invoke(capsys, ["--config", str(path), "check"], TEMPLATE_ENV)
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert "connectors.zoom.log_webhook" in result.err
    assert "did you mean 'log_webhooks'" in result.err


def test_wrongly_typed_value_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, TEMPLATE.replace("port: 8080", "port: eighty"))
    result = invoke(capsys, ["--config", str(path), "check", "--json"], TEMPLATE_ENV)
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert "server.port" in result.err and "integer" in result.err
    assert json.loads(result.out)["ok"] is False  # --json: a document on stdout, always


def test_config_path_comes_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.yaml"
    result = invoke(capsys, ["check"], {"ZOOM_BREVO_CONFIG": str(missing)})
    assert result.code == 2
    assert str(missing) in result.err
    assert "zoom-brevo init" in result.err


def test_bad_usage_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(capsys, ["check", "--jsno"])
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert "--jsno" in result.err


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(capsys, ["chek"])
    assert result.code == 2
    assert "chek" in result.err


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(capsys, ["--help"])
    assert result.code == 0
    for command in ("init", "check", "sandbox", "demo"):
        assert command in result.out


def test_console_script_reports_config_errors_without_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, "connectors: {zoom: {}}\nbrevo: {api_key: k}\n")
    completed = subprocess.run(
        [sys.executable, "-c", "from zoom_brevo.cli import main; main()", "--config", str(path),
         "check"],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.splitlines()
    assert [line.split(": ")[2].split(" ")[0] for line in lines] == [
        "connectors.zoom.account_id", "connectors.zoom.client_id", "connectors.zoom.client_secret",
    ]  # every problem, one line each  # fmt: skip
    assert all(line.startswith("error: ") for line in lines)


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (ConfigError("bad key", key="server.port", line=3), 2, "server.port (line 3): bad key"),
        (AuthError("Zoom refused the credentials", service="zoom", status=401), 1, "Zoom refused"),
        (RateLimited("slow down", service="brevo", status=429), 1, "slow down"),
        (StoreError("database is locked"), 1, "database is locked"),
        (RuntimeError("boom"), 1, "unexpected RuntimeError: boom"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_failures_map_to_exit_codes(error: BaseException, code: int, words: str) -> None:
    message, exit_code = describe_failure(error)
    assert exit_code == code
    assert words in message
