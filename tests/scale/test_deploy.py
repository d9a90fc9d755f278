"""The deployment examples (compose.yaml, systemd units) run commands that exist.

Docker and systemd are not available to the test suite; the files are parsed and every
command line they run is parsed by the real CLI, so a renamed command or option fails
here instead of in production.
"""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from tests.conftest import REPO_ROOT
from zoom_brevo.cli.app import app
from zoom_brevo.config import load_settings

DEPLOY = REPO_ROOT / "deploy"
UNITS = ("zoom-brevo-worker.service", "zoom-brevo-serve.service")


def parse_command_line(args: list[str]) -> tuple[str, Any]:
    """Parse ``args`` (after the program name) as the CLI would: the command and context.

    Typer's vendored click layer raises on an unknown command or option.
    """
    group: Any = typer.main.get_command(app)
    root = group.make_context("zoom-brevo", list(args), resilient_parsing=False)
    name, command, rest = group.resolve_command(root, [*root._protected_args, *root.args])
    assert command is not None and name is not None
    return name, command.make_context(name, rest, parent=root)


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_postgresql_15_a_server_without_worker_and_workers() -> None:
    services = compose()["services"]
    assert services["postgres"]["image"] == "postgres:15"
    commands = {name: svc["command"] for name, svc in services.items() if "command" in svc}
    parsed = {name: parse_command_line(cmd) for name, cmd in commands.items()}
    assert parsed["serve"][0] == "serve"
    assert parsed["serve"][1].params["no_worker"] is True
    assert parsed["worker"][0] == "worker"
    for name in commands:
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_configuration_loads_and_points_at_the_postgres_service() -> None:
    names = ("ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", "ZOOM_WEBHOOK_SECRET")
    environ = dict.fromkeys((*names, "BREVO_API_KEY", "POSTGRES_PASSWORD"), "x")
    settings = load_settings(DEPLOY / "zoom-brevo.compose.yaml", environ)
    assert settings.storage.url.startswith("postgresql+psycopg://zoom_brevo:x@postgres:5432/")
    mounted = compose()["x-app"]["volumes"][0].split(":")
    assert (REPO_ROOT / mounted[0]).resolve() == DEPLOY / "zoom-brevo.compose.yaml"
    assert compose()["x-app"]["environment"]["ZOOM_BREVO_CONFIG"] == mounted[1]


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_units_start_an_existing_command(unit: str) -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string((DEPLOY / unit).read_text())
    exec_start = shlex.split(parser["Service"]["ExecStart"])
    assert Path(exec_start[0]).name == "zoom-brevo"
    name, ctx = parse_command_line(exec_start[1:])
    expected = "worker" if "worker" in unit else "serve"
    assert name == expected
    if expected == "serve":
        assert ctx.params["no_worker"] is True
    assert parser["Service"]["KillSignal"] == "SIGTERM"
