"""What every command shares: the global options, the environment and the consoles."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from zoom_brevo.config import Settings, config_path, load_settings
from zoom_brevo.logging import configure_logging, log_style, scrub

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print only a JSON document on standard output.")
]
"""The ``--json`` flag of the commands whose report can be a JSON document instead."""
JsonSummaryOption = Annotated[
    bool,
    typer.Option(
        "--json", help="Print only a JSON summary on standard output (messages on standard error)."
    ),
]
"""The ``--json`` flag of the commands that work a while, telling their progress meanwhile."""


@dataclass
class CliState:
    """Global options; ``environ`` is the only place the CLI reads the environment from."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    config: Path | None = None

    @property
    def config_path(self) -> Path:
        """``--config``, else ``$ZOOM_BREVO_CONFIG``, else ``./zoom-brevo.yaml``."""
        return config_path(self.config, self.environ)

    def settings(self, *, quiet: bool = True) -> Settings:
        """Load the configuration and set up logging from it.

        ``quiet`` keeps log lines at warnings and above (unless ``debug``/``verbose``), for
        commands whose output is a report.
        """
        settings = load_settings(self.config_path, self.environ)
        zoom = settings.connectors.zoom
        level, json_output = log_style(debug=zoom.debug, log_level=zoom.log_level)
        if quiet and not json_output:
            level = max(level, logging.WARNING)
        configure_logging(level, json_output=json_output, log_requests=zoom.log_level == "verbose")
        return settings


def state_of(ctx: typer.Context) -> CliState:
    """The :class:`CliState` the top-level callback stored on the context."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def stdout() -> Console:
    """Rich console on standard output (reports)."""
    return Console(highlight=False, soft_wrap=True)


def counts_table(title: str, rows: Iterable[tuple[str, int]]) -> Table:
    """A report of counters: one ``What | Count`` row each."""
    table = Table(title=title, title_justify="left")
    table.add_column("What")
    table.add_column("Count", justify="right")
    for label, count in rows:
        table.add_row(label, str(count))
    return table


def stderr() -> Console:
    """Rich console on standard error (progress, notes)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_error(message: str, *, keep: Sequence[str] = ()) -> None:
    """Print ``message`` on standard error as ONE line, with secrets and e-mails masked.

    ``keep``: what the user typed themselves (an address they asked about), shown as typed.
    """
    kept = {f"\x00{i}\x00": value for i, value in enumerate(keep) if value}
    for token, value in kept.items():
        message = message.replace(value, token)
    line = " ".join(scrub(message).split())
    for token, value in kept.items():
        line = line.replace(token, value)
    typer.echo(f"error: {line}", err=True)


def epilog(text: str, *examples: str) -> str:
    """A command's help epilog: ``text`` (markdown), then ``examples`` one per line."""
    shown = "\n".join(examples)
    block = f"\n\n**Examples**\n\n```\n{shown}\n```\n" if examples else ""
    return f"{text.strip()}{block}"
