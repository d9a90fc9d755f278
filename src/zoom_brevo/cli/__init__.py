"""The ``zoom-brevo`` command line (Typer). ``main`` is the console-script entry point."""

from zoom_brevo.cli.app import app, main

__all__ = ["app", "main"]
