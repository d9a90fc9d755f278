"""Help and shell completion: every command explains itself and every option says what it does.

The command tree is walked from Typer's Click command, so a command added later is held
to the same rules without touching this file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.core import TyperOption

from tests.cli.helpers import invoke
from zoom_brevo.cli.app import app, run

MAX_SUMMARY_CHARS = 65  # one line in the command list of an 80-column terminal
ROOT = typer.main.get_command(app)


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(ROOT))
IDS = [" ".join(path) or "zoom-brevo" for path, _ in COMMANDS]


def _summary(command: Any) -> str:
    return (command.help or "").strip().splitlines()[0] if command.help else ""


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_exits_0_and_opens_with_the_usage_and_the_summary(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...], command: Any
) -> None:
    result = invoke(capsys, [*path, "--help"])

    assert result.code == 0, result.err
    assert result.err == ""
    assert f"Usage: zoom-brevo {' '.join(path)}".rstrip() in result.out
    assert _summary(command) in " ".join(result.out.split())


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_summary_is_one_short_sentence(path: tuple[str, ...], command: Any) -> None:
    summary = _summary(command)

    assert summary, f"zoom-brevo {' '.join(path)} has no help text"
    assert summary[0].isupper()
    assert summary.endswith(".")
    if path:  # the root's summary heads its own help, not a command list
        assert len(summary) <= MAX_SUMMARY_CHARS, summary


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_option_and_argument_has_help_text(path: tuple[str, ...], command: Any) -> None:
    for param in command.params:
        text = (getattr(param, "help", None) or "").strip()
        assert text, f"zoom-brevo {' '.join(path)}: {param.name} has no help text"
        assert text.endswith((".", ")")), f"{param.name}: {text!r}"


def test_commands_are_grouped_set_up_sync_operate_try(capsys: pytest.CaptureFixture[str]) -> None:
    out = invoke(capsys, ["--help"]).out

    panels = [out.index(f"─ {name} ─") for name in ("Set up", "Sync", "Operate", "Try it")]
    assert panels == sorted(panels)
    assert "zoom-brevo demo" in out  # the epilog's first step


def test_no_arguments_prints_the_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(capsys, [])

    assert result.code == 2
    assert "Usage: zoom-brevo" in result.out


def test_a_group_without_its_subcommand_says_what_is_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = invoke(capsys, ["sync"])

    assert result.code == 2
    assert result.err_lines == ["error: missing command; see 'zoom-brevo sync --help'"]


def test_a_usage_error_names_the_help_to_read(capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(capsys, ["backfill"])

    assert result.code == 2
    assert result.err_lines == ["error: Missing option '--from'; see 'zoom-brevo backfill --help'"]


# --- shell completion ------------------------------------------------------------------------


def test_the_completion_options_are_offered() -> None:
    options = {opt for param in ROOT.params for opt in param.opts}

    assert {"--install-completion", "--show-completion"} <= options


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o default -F _zoom_brevo_completion zoom-brevo"),
        ("zsh", "#compdef zoom-brevo"),
        ("fish", "complete --command zoom-brevo"),
    ],
)
def test_the_completion_script_for_a_named_shell_is_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, shell: str, marker: str
) -> None:
    # --show-completion detects the running shell; the same script for a named shell comes
    # from Click's variable, which Typer reads as source_SHELL.
    monkeypatch.setenv("_ZOOM_BREVO_COMPLETE", f"source_{shell}")

    code = _exit_code(lambda: run([], {}))

    assert code == 0
    assert marker in capsys.readouterr().out


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("zoom-brevo sy", {"sync"}),
        ("zoom-brevo sync ", {"meeting", "webinar"}),
        ("zoom-brevo report engagement --format ", {"table", "csv", "json"}),
    ],
)
def test_completion_proposes_commands_and_choices(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    words: str,
    expected: set[str],
) -> None:
    monkeypatch.setenv("_ZOOM_BREVO_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split()) - (0 if words.endswith(" ") else 1)))

    assert _exit_code(lambda: run([], {})) == 0
    assert set(capsys.readouterr().out.split()) == expected


def _exit_code(call: Any) -> int | str | None:
    with pytest.raises(SystemExit) as ended:
        call()
    return ended.value.code


# --- parameter style (Click's: --port PORT, --format [a|b], bare flags) ----------------------

TYPE_TAG = re.compile(r"<[a-z][\w \[\]|,]*>")  # Typer's "<bool>", "<str>", "<int range>"


def _option_lines(out: str) -> list[str]:
    """The options panel rows, box drawing removed, one string per row."""
    return [line.strip("│ ").rstrip() for line in out.splitlines() if line.startswith("│")]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_tags_no_parameter_with_its_python_type(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...], command: Any
) -> None:
    out = invoke(capsys, [*path, "--help"], {"COLUMNS": "100"}).out

    assert TYPE_TAG.findall(out) == []


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_shows_flags_bare_and_values_by_metavar(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...], command: Any
) -> None:
    rows = _option_lines(invoke(capsys, [*path, "--help"], {"COLUMNS": "200"}).out)
    ctx = typer.Context(command)

    for param in command.get_params(ctx):
        if not isinstance(param, TyperOption) or param.hidden:
            continue
        row = next(r for r in rows if r.lstrip("* ").startswith(f"{param.opts[0]} "))
        after = [w for w in row.lstrip("* ").split() if w not in param.opts]
        if param.is_flag:  # the help text follows at once
            assert after[0] == (param.help or "").split()[0], row
        else:
            assert re.fullmatch(r"[A-Z_]+|\[[\w|-]+\]", after[0]), row


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["serve"], ["--host HOST", "--port PORT [1<=x<=65535]"]),
        (["sandbox"], ["--host HOST", "--port PORT [1<=x<=65535]"]),
        (["report", "engagement"], ["--format [table|csv|json]", "--limit N [x>=0]"]),
    ],
)
def test_the_same_kind_of_option_reads_the_same_everywhere(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: list[str]
) -> None:
    out = " ".join(invoke(capsys, [*args, "--help"], {"COLUMNS": "100"}).out.split())

    for text in expected:
        assert text in out
    assert "--help Show this message and exit." in out
