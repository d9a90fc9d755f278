"""The CI supply-chain gate: vulnerabilities fail, an unreachable data source only warns."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "audit.py"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_vulnerable_pin_fails_the_run(audit: ModuleType) -> None:
    deps = [
        {"name": "httpx", "version": "0.28.1", "vulns": []},
        {"name": "jinja2", "version": "3.0.0", "vulns": [{"id": "GHSA-xxxx"}]},
    ]
    assert audit.classify(deps) == 1


def test_clean_pins_pass(audit: ModuleType) -> None:
    assert audit.classify([{"name": "httpx", "version": "0.28.1", "vulns": []}]) == 0


def test_unreachable_data_source_only_warns(
    audit: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    deps = [{"name": "httpx", "skip_reason": "Dependency not found on PyPI"}]
    assert audit.classify(deps) == 0
    assert "could not be checked" in capsys.readouterr().err
