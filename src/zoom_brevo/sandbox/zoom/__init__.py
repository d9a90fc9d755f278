"""The emulated Zoom API (OAuth + REST ``/v2``), driven by a ``Scenario``.

>>> emu = ZoomEmulator(scenario=Scenario(seed=1))   # doctest: +SKIP
>>> emu.app   # an ASGI app; emu.faults, emu.stats, emu.report_delay_s   # doctest: +SKIP
"""

from zoom_brevo.sandbox.zoom.app import ZoomEmulator
from zoom_brevo.sandbox.zoom.faults import Faults, RecordedRequest, Stats

__all__ = ["Faults", "RecordedRequest", "Stats", "ZoomEmulator"]
