"""A process competing to be the scheduler (run by the tests).

``python -m tests.scale.scheduled DB_URL LOCK_ID``: runs a ``Scheduler`` every 0.1 s whose
only tick writes this process's pid into ``sched_log``, until killed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_brevo.scheduler import Scheduler
from zoom_brevo.store.engine import create_engine


def log_pid(engine: Engine, _now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO sched_log (pid, at_s) VALUES (:pid, :at)"),
            {"pid": os.getpid(), "at": time.time()},
        )


async def main(url: str, lock_id: int) -> None:
    engine = create_engine(url)
    scheduler = Scheduler(engine, [log_pid], interval_s=0.1, lock_id=lock_id)
    await scheduler.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
