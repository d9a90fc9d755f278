"""The README's promises: its first two commands, and the commands it names, are real."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.core import TyperGroup

from zoom_brevo.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")
# "zoom-brevo [--config PATH] NAME [SUBNAME]", also as ".venv/bin/zoom-brevo NAME".
MENTION = re.compile(
    r"(?:^|[\s/(])zoom-brevo(?:\s+--config\s+\S+)?\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?"
)


def fenced_blocks(text: str) -> list[str]:
    """The contents of the fenced code blocks, in order."""
    return [block.strip() for block in FENCE.findall(text)]


def code_mentions(text: str) -> set[tuple[str, str | None]]:
    """Every ``zoom-brevo NAME [SUBNAME]`` inside code (fenced blocks and inline spans)."""
    code = [*FENCE.findall(text), *INLINE.findall(FENCE.sub("", text))]
    found: set[tuple[str, str | None]] = set()
    for snippet in code:
        found.update((m.group(1), m.group(2)) for m in MENTION.finditer(snippet))
    return found


def ci_test_command() -> str:
    """The last command ``.ci/run`` runs: the README's test command."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return commands[-1]


def cli_commands() -> dict[str, set[str]]:
    """Command name -> its subcommands (empty for a plain command)."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    return {
        name: set(cmd.commands) if isinstance(cmd, TyperGroup) else set()
        for name, cmd in root.commands.items()
    }


def test_the_first_command_sets_up_and_runs_the_demo() -> None:
    first = fenced_blocks(README.read_text(encoding="utf-8"))[0]
    assert "pip install -e '.[dev]'" in first
    assert first.endswith("zoom-brevo demo")


def test_the_second_command_is_the_one_ci_runs() -> None:
    second = fenced_blocks(README.read_text(encoding="utf-8"))[1]
    assert second == ci_test_command() == "bash scripts/test"


def test_every_command_the_readme_names_exists() -> None:
    commands = cli_commands()
    mentions = code_mentions(README.read_text(encoding="utf-8"))
    unknown = [name for name, _ in mentions if name not in commands]
    assert not unknown
    wrong_sub = [
        f"{name} {sub}"
        for name, sub in mentions
        if commands.get(name) and sub not in commands[name]
    ]
    assert not wrong_sub


def test_the_readme_lists_every_command_of_the_cli() -> None:
    mentioned = code_mentions(README.read_text(encoding="utf-8"))
    named = {name for name, _ in mentioned} | {f"{n} {s}" for n, s in mentioned if s}
    expected = set()
    for name, subs in cli_commands().items():
        expected.update({f"{name} {sub}" for sub in subs} if subs else {name})
    assert expected <= named


def test_the_mention_parser_finds_commands_only_in_code() -> None:
    text = "zoom-brevo is a connector.\n\n`zoom-brevo --config x.yaml sync meeting 1`\n"
    text += "```sh\n.venv/bin/zoom-brevo demo\n```\n"
    assert code_mentions(text) == {("sync", "meeting"), ("demo", None)}
