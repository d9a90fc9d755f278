"""The coverage-guided fuzzer of the pure webhook path runs clean for a bounded number of inputs.

``fuzz/fuzz_webhook_intake.py`` (atheris/libFuzzer) asserts the verify/classify properties on
every input; this test runs it for ``RUNS`` inputs from the committed seed corpus.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, require

RUNS = 30_000
FUZZ = REPO_ROOT / "fuzz"


def test_the_webhook_intake_fuzzer_finds_nothing_in_a_bounded_run(tmp_path: Path) -> None:
    require(importlib.util.find_spec("atheris") is not None, "atheris is not installed")
    work = tmp_path / "corpus"
    work.mkdir()
    run = subprocess.run(
        [
            sys.executable,
            str(FUZZ / "fuzz_webhook_intake.py"),
            f"-runs={RUNS}",
            f"-dict={FUZZ / 'webhook.dict'}",
            "-max_len=4096",
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",
            str(work),
            str(FUZZ / "corpus" / "webhook_intake"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = run.stdout + run.stderr
    print(re.findall(r"^#\d+\s+DONE.*$", log, re.MULTILINE))  # noqa: T201 (runs, coverage)

    assert run.returncode == 0, log[-3000:]
    assert f"Done {RUNS} runs" in log
    assert not list(tmp_path.glob("crash-*"))
