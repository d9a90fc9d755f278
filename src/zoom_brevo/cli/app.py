"""The Typer application, its global options and the top-level error handler.

Every failure ends as ONE line on standard error and an exit code: 0 success, 1 the work
failed (:class:`~zoom_brevo.errors.ApiError` and friends), 2 bad usage or configuration
(:class:`~zoom_brevo.errors.ConfigError`, usage errors). Tracebacks are never shown.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from zoom_brevo.cli import (
    backfill_cmd,
    check_cmd,
    demo_cmd,
    forget_cmd,
    init_cmd,
    register_cmd,
    report_cmd,
    retry_cmd,
    rotate_key_cmd,
    sandbox_cmd,
    serve_cmd,
    setup_brevo_cmd,
    status_cmd,
    sync_cmd,
    worker_cmd,
)
from zoom_brevo.cli.context import CliState, print_error, state_of
from zoom_brevo.cli.help_style import styled
from zoom_brevo.errors import ConfigError, ZoomBrevoError
from zoom_brevo.logging import configure_logging

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
TRACEBACK_ENV_VAR = "ZOOM_BREVO_TRACEBACK"  # "1": show tracebacks of unexpected errors

SET_UP, SYNC, OPERATE, TRY = "Set up", "Sync", "Operate", "Try it"
EPILOG = """\
First time? `zoom-brevo demo` runs the whole flow against built-in emulators (no
account needed). For real: `zoom-brevo init`, fill in the file, `zoom-brevo check`,
`zoom-brevo setup-brevo`, then `zoom-brevo serve` (or `sync` / `backfill` for the past).

Exit codes: 0 success, 1 the work failed (the message says what to do next), 2 bad usage
or configuration. `zoom-brevo COMMAND --help` shows a command's options.
"""

app = typer.Typer(
    name="zoom-brevo",
    help="Connect Zoom meetings and webinars to Brevo contacts, lists, events and follow-ups.",
    epilog=EPILOG,
    # --install-completion / --show-completion: Typer's, shell detected by shellingham.
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="PATH",
            help="Configuration file (default: $ZOOM_BREVO_CONFIG, else ./zoom-brevo.yaml).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    state_of(ctx).config = config


app.command("init", rich_help_panel=SET_UP)(init_cmd.init)
app.command("check", rich_help_panel=SET_UP, epilog=check_cmd.EPILOG)(check_cmd.check)
app.command("setup-brevo", rich_help_panel=SET_UP, epilog=setup_brevo_cmd.EPILOG)(
    setup_brevo_cmd.setup_brevo
)
app.add_typer(sync_cmd.app, name="sync", rich_help_panel=SYNC)
app.command("backfill", rich_help_panel=SYNC, epilog=backfill_cmd.EPILOG)(backfill_cmd.backfill)
app.command("register", rich_help_panel=SYNC, epilog=register_cmd.EPILOG)(register_cmd.register)
app.command("serve", rich_help_panel=SYNC)(serve_cmd.serve)
app.command("worker", rich_help_panel=SYNC)(worker_cmd.worker)
app.command("status", rich_help_panel=OPERATE)(status_cmd.status)
app.command("retry", rich_help_panel=OPERATE, epilog=retry_cmd.EPILOG)(retry_cmd.retry)
app.add_typer(report_cmd.app, name="report", rich_help_panel=OPERATE)
app.command("forget", rich_help_panel=OPERATE, epilog=forget_cmd.EPILOG)(forget_cmd.forget)
app.command("rotate-key", rich_help_panel=OPERATE, epilog=rotate_key_cmd.EPILOG)(
    rotate_key_cmd.rotate_key
)
app.command("demo", rich_help_panel=TRY)(demo_cmd.demo)
app.command("sandbox", rich_help_panel=TRY)(sandbox_cmd.sandbox)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> NoReturn:
    """Console-script entry point: run the command line and exit with its code."""
    sys.exit(run(argv, environ))


def run(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command line; return the exit code instead of exiting."""
    state = CliState(environ=dict(os.environ if environ is None else environ))
    configure_logging(logging.WARNING)  # until a command loads the configuration
    args = list(sys.argv[1:] if argv is None else argv)
    command = styled(typer.main.get_command(app))
    try:
        result = command.main(
            args=args or ["--help"], prog_name="zoom-brevo", obj=state, standalone_mode=False
        )
    except (Exception, KeyboardInterrupt) as exc:
        if not _expected(exc) and state.environ.get(TRACEBACK_ENV_VAR) == "1":
            raise
        message, code = describe_failure(exc)
        keep = exc.user_input if isinstance(exc, ZoomBrevoError) else ()
        for line in _problems(exc, message):
            print_error(line, keep=keep)
        return code
    if not args:
        return EXIT_USAGE
    return result if isinstance(result, int) else EXIT_OK


def describe_failure(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code for an exception that ended a command."""
    if isinstance(exc, ZoomBrevoError):
        return str(exc), exit_code_for(exc)
    if isinstance(exc, typer.TyperException):  # usage errors of the (vendored) click layer
        return _usage_message(exc), exc.exit_code
    if isinstance(exc, typer.Abort | KeyboardInterrupt):
        return "interrupted", EXIT_INTERRUPTED
    hint = f"please report this; run again with {TRACEBACK_ENV_VAR}=1 to see the traceback"
    return f"unexpected {type(exc).__name__}: {exc} ({hint})", EXIT_FAILED


def _problems(exc: BaseException, message: str) -> tuple[str, ...]:
    """One line each: a configuration with several problems gets them all, one per line."""
    if isinstance(exc, ConfigError) and len(exc.problems) > 1:
        return exc.problems
    return (message,)


def _expected(exc: BaseException) -> bool:
    return isinstance(exc, ZoomBrevoError | typer.TyperException | typer.Abort | KeyboardInterrupt)


def _usage_message(exc: typer.TyperException) -> str:
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None)
    # A group run without its subcommand has printed its help and has nothing to add.
    text = exc.format_message().strip().rstrip(".") or "missing command"
    # A message that already names what to read next needs no second "see ...".
    hint = f"; see '{path} --help'" if path and "see '" not in text else ""
    return f"{text}{hint}"


def exit_code_for(error: ZoomBrevoError) -> int:
    """The exit code for an error from the package's exception tree."""
    # ApiError, StoreError and the rest: the work failed.
    return EXIT_USAGE if isinstance(error, ConfigError) else EXIT_FAILED
