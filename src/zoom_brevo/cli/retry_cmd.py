"""``zoom-brevo retry``: queue dead letters again (``outbox:12``, ``job:3`` or ``--all``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlalchemy.engine import Connection

from zoom_brevo.cli.context import JsonOption, epilog, state_of, stdout
from zoom_brevo.store import deadletters, jobs, outbox
from zoom_brevo.store.deadletters import DeadLetter
from zoom_brevo.store.engine import transaction
from zoom_brevo.wiring import open_store

EPILOG = epilog(
    """
Fix the cause first (the error column of `zoom-brevo status` says what was refused),
then re-queue. A running `zoom-brevo serve` or `worker` delivers them within seconds;
otherwise the next `zoom-brevo sync` does.
""",
    "zoom-brevo retry outbox:12 job:3",
    "zoom-brevo retry --all --json",
)


def retry(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ID", help="Dead letters as `status` lists them: outbox:N or job:N."
        ),
    ] = None,
    all_dead: Annotated[bool, typer.Option("--all", help="Re-queue every dead letter.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Re-queue dead letters for the worker to deliver again.

    Each gets fresh attempts. `zoom-brevo status` lists the dead letters and why they died.
    """
    wanted = list(refs or [])
    if all_dead == bool(wanted):
        raise typer.BadParameter(
            "give dead letter IDs (e.g. outbox:12, as 'zoom-brevo status' lists them)"
            " or --all, not both"
        )
    for ref in wanted:
        _check_format(ref)
    settings = state_of(ctx).settings()
    engine = open_store(settings)
    try:
        with transaction(engine) as conn:
            letters = requeue(conn, wanted, all_dead=all_dead)
    finally:
        engine.dispose()
    if json_output:
        typer.echo(json.dumps(requeued_json(letters), indent=2))
        return
    show(letters)


def _check_format(ref: str) -> None:
    try:
        deadletters.parse_ref(ref)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def requeue(conn: Connection, refs: list[str], *, all_dead: bool) -> list[DeadLetter]:
    """Queue the given (or all) dead letters again; return what was re-queued."""
    now = datetime.now(UTC)
    if all_dead:
        letters = deadletters.list_dead(conn, limit=deadletters.count(conn) or 1)
        deadletters.requeue_all(conn, now=now)
        return letters
    letters = [_dead_letter(conn, ref) for ref in dict.fromkeys(refs)]
    deadletters.requeue(conn, [letter.ref for letter in letters], now=now)
    return letters


def _dead_letter(conn: Connection, ref: str) -> DeadLetter:
    source, number = deadletters.parse_ref(ref)
    row = outbox.get(conn, number) if source == "outbox" else jobs.get(conn, number)
    if row is None:
        raise typer.BadParameter(f"{ref}: no such {source} entry; see 'zoom-brevo status'")
    if row.state != "dead":
        raise typer.BadParameter(f"{ref} is not a dead letter (it is {row.state})")
    return DeadLetter(source, number, row.kind, row.attempts, row.last_error, row.updated_at)


def requeued_json(letters: list[DeadLetter]) -> dict[str, Any]:
    """What was re-queued, as the ``--json`` document."""
    return {
        "requeued": len(letters),
        "letters": [
            {
                "id": letter.ref,
                "kind": letter.kind,
                "attempts": letter.attempts,
                "error": letter.last_error,
            }
            for letter in letters
        ],
    }


def show(letters: list[DeadLetter]) -> None:
    """Say what was re-queued."""
    console = stdout()
    if not letters:
        console.print("No dead letters to re-queue.")
        return
    for letter in letters:
        console.print(f"re-queued {letter.ref} ({letter.kind})")
    console.print(f"{len(letters)} re-queued; the worker (or the next sync) delivers them.")
