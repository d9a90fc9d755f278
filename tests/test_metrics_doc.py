"""docs/metrics.md lists exactly what ``/metrics`` exposes, each with a test that moves it."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO_ROOT
from zoom_brevo.server.metrics import Metrics
from zoom_brevo.store.engine import create_engine, migrate

DOC = REPO_ROOT / "docs" / "metrics.md"
ROW = re.compile(r"^\| `(zoom_brevo_[a-z_]+)` \|.*\| `(tests/[^`]+)::(test_[a-z0-9_]+)` \|$")


def documented() -> dict[str, tuple[str, str]]:
    """Metric name -> (test file, test name), from the table of the page."""
    rows = (ROW.match(line) for line in DOC.read_text("utf-8").splitlines())
    return {m[1]: (m[2], m[3]) for m in rows if m}


def exposed(tmp_path: Path) -> set[str]:
    """Names as Prometheus shows them (counters with ``_total``), store gauges included."""
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    metrics = Metrics()
    metrics.watch_store(engine)
    text = metrics.render()[0].decode()
    engine.dispose()
    return {
        f"{family.name}_total" if family.type == "counter" else family.name
        for family in text_string_to_metric_families(text)
        if not family.name.endswith("_created")  # creation times, not metrics of their own
    }


def test_the_page_lists_every_exposed_metric_and_nothing_else(tmp_path: Path) -> None:
    assert set(documented()) == exposed(tmp_path)


def test_every_metric_names_a_test_that_exists() -> None:
    for name, (path, test) in documented().items():
        source = (REPO_ROOT / path).read_text("utf-8")
        assert re.search(rf"^(async )?def {test}\(", source, re.M), f"{name}: {path}::{test}"


def test_every_metric_the_readme_names_is_on_the_page() -> None:
    readme = (REPO_ROOT / "README.md").read_text("utf-8")
    named = set(re.findall(r"`(zoom_brevo_[a-z_]+)[{`]", readme))
    assert named <= set(documented())
