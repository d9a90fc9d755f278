"""``zoom-brevo init``: write the commented configuration template."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zoom_brevo.cli.context import state_of, stderr
from zoom_brevo.config.template import TEMPLATE, TEMPLATE_ENV_VARS
from zoom_brevo.errors import ConfigError


def init(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Option(
            "--path",
            metavar="PATH",
            help="Where to write it (default: the --config path, else ./zoom-brevo.yaml).",
            dir_okay=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented configuration template.

    Every key is there, with its default and what it does. Secrets are read from environment
    variables the template names; set them, edit the file, then run `zoom-brevo check`.
    """
    target = path or state_of(ctx).config_path
    write_template(target, force=force)
    names = ", ".join(TEMPLATE_ENV_VARS)
    stderr().print(f"wrote {target}; set {names} in the environment, then run `zoom-brevo check`")


def write_template(target: Path, *, force: bool) -> None:
    """Write :data:`TEMPLATE` to ``target``; refuse to replace a file unless ``force``."""
    if target.is_dir():
        raise ConfigError(f"{target} is a directory; pass a file path with --path")
    try:
        with target.open("w" if force else "x", encoding="utf-8") as out:
            out.write(TEMPLATE)
    except FileExistsError:
        raise ConfigError(f"{target} already exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
