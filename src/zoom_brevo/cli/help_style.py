"""Help that reads like Click's: ``--port PORT``, ``--format [table|csv|json]``, bare flags.

Typer 0.29 tags every parameter with its Python type in the help (``--help <bool>``,
``--host <str>``, ``--port <int range>``, ``ID <list[str]>``) and offers no setting to turn
that off: its help formatter asks each parameter for ``display_type_rich``. :func:`styled`
walks the built command tree once and gives each parameter a class that answers as Click
does: nothing for a flag or an argument (the argument's name says it), the option's
metavar, the choices between brackets, else the option's name in capitals.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperOption


class _StyledOption(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        return option_metavar(self, ctx)


class _StyledArgument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:  # noqa: ARG002 (Typer's signature)
        return None


def option_metavar(option: TyperOption, ctx: Any) -> str | None:
    """What follows ``option`` in the help: ``None`` for a flag, else a Click-style metavar."""
    if option.is_flag or option.count:
        return None
    if option.metavar is not None:
        return option.metavar
    descriptor = option.type_descriptor
    if descriptor.is_choice:
        shown = TyperOption.display_type(option, ctx)  # "<a|b|c>", Typer's normalised choices
        return f"[{shown.strip('<>')}]"
    return (option.name or "value").upper()


def styled(command: Any) -> Any:
    """``command`` and its subcommands with Click-style parameter help (changed in place)."""
    ctx = typer.Context(command, info_name=command.name)
    for param in command.get_params(ctx):  # includes the --help option, created on demand
        if type(param) is TyperOption:
            param.__class__ = _StyledOption
        elif type(param) is TyperArgument:
            param.__class__ = _StyledArgument
    for sub in getattr(command, "commands", {}).values():
        styled(sub)
    return command
