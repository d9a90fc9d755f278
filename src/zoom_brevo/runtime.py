"""Process identity for the background worker that ``serve`` (in-process) and ``worker`` run."""

from __future__ import annotations

import os
import socket


def worker_owner() -> str:
    """This process's name on leases it takes: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"
