"""Emulated Brevo API v3 (stateful, scriptable) for tests, benchmarks and the demo."""

from zoom_brevo.sandbox.brevo.emulator import BrevoEmulator
from zoom_brevo.sandbox.brevo.protocol import Options
from zoom_brevo.sandbox.brevo.state import BrevoState

__all__ = ["BrevoEmulator", "BrevoState", "Options"]
