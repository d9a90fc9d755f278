"""Run the command line in-process and capture what it prints."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pytest
import structlog

from zoom_brevo.cli.app import run


@dataclass(frozen=True)
class Result:
    """Exit code and the two output streams of one command-line run."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        """Non-empty lines on standard error."""
        return [line for line in self.err.splitlines() if line.strip()]


def invoke(
    capsys: pytest.CaptureFixture[str],
    args: Sequence[str],
    environ: Mapping[str, str] | None = None,
) -> Result:
    """Run ``zoom-brevo ARGS`` with ``environ`` as the whole environment."""
    capsys.readouterr()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        code = run(list(args), dict(environ or {}))
    finally:  # the CLI configures logging globally; leave no trace for other tests
        structlog.reset_defaults()
        root.handlers, root.level = handlers, level
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return Result(code, captured.out, captured.err)
