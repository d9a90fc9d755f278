"""Where a sync's memory goes: a ``--wrap`` for ``bench/sync_webinar.py``.

``memory_probe.py PYTHON -c CODE ARGS...`` runs the sync's command line in this process and
writes to ``$MEMORY_PROBE_OUT`` (default ``memory_probe.txt``), at the end of each phase
(registrants and reports collected, participants collected, derived, delivered) and each
time the RSS high-water mark rises: the RSS (``/proc/self/status``), glibc's
``mallinfo2``, SQLite's own heap (``sqlite3_memory_used`` / ``_highwater`` of the
``libsqlite3.so.0`` the ``sqlite3`` module uses) and, at the phase ends, per connection
``sqlite3_db_status`` (page cache, schema, statements) and the largest prepared
statements. Linux with glibc only. Not a test:

    .venv/bin/python bench/sync_webinar.py --sizes 10000 --baseline-n 0 \\
        "--wrap=.venv/bin/python bench/memory_probe.py"
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

OUT = Path(os.environ.get("MEMORY_PROBE_OUT", "memory_probe.txt"))
SQLITE = ctypes.CDLL("libsqlite3.so.0")
SQLITE.sqlite3_memory_used.restype = ctypes.c_int64
SQLITE.sqlite3_memory_highwater.restype = ctypes.c_int64
SQLITE.sqlite3_memory_highwater.argtypes = [ctypes.c_int]
SQLITE.sqlite3_next_stmt.restype = ctypes.c_void_p
SQLITE.sqlite3_next_stmt.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
SQLITE.sqlite3_sql.restype = ctypes.c_char_p
SQLITE.sqlite3_sql.argtypes = [ctypes.c_void_p]
SQLITE.sqlite3_stmt_status.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
SQLITE.sqlite3_db_status.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                                     ctypes.c_void_p, ctypes.c_int]  # fmt: skip
STMTSTATUS_MEMUSED = 99
DB_STATUS = {"cache": 1, "schema": 2, "statements": 3}
MB = 2**20
LIBC = ctypes.CDLL("libc.so.6")


class MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


LIBC.mallinfo2.restype = MallInfo2
STARTED = time.monotonic()
LINES: list[str] = []
CONNECTIONS: list[Any] = []


def status() -> str:
    """RSS, malloc and SQLite heap, in MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon"):
            found[key] = int(value.split()[0]) / 1024
    info = LIBC.mallinfo2()
    return (
        f"t={time.monotonic() - STARTED:6.1f} rss={found['VmRSS']:6.1f} hwm={found['VmHWM']:6.1f}"
        f" anon={found['RssAnon']:6.1f} malloc_in_use={(info.uordblks + info.hblkhd) / MB:5.1f}"
        f" sqlite={SQLITE.sqlite3_memory_used() / MB:5.1f}"
        f" sqlite_hw={SQLITE.sqlite3_memory_highwater(0) / MB:5.1f}"
    )


def handle(connection: Any) -> int | None:
    """The ``sqlite3*`` of a ``sqlite3.Connection`` (CPython: the field after the header)."""
    return ctypes.c_void_p.from_address(id(connection) + 16).value


def statements() -> list[str]:
    """Per connection its db_status, then the largest prepared statements of all."""
    lines, used, count = [], Counter[str](), Counter[str]()
    for db in filter(None, map(handle, CONNECTIONS)):
        cells = []
        for name, op in DB_STATUS.items():
            now, high = ctypes.c_int(), ctypes.c_int()
            SQLITE.sqlite3_db_status(db, op, ctypes.byref(now), ctypes.byref(high), 0)
            cells.append(f"{name}={now.value / MB:.1f}")
        lines.append("  connection: " + " ".join(cells))
        stmt = SQLITE.sqlite3_next_stmt(db, None)
        while stmt:
            sql = SQLITE.sqlite3_sql(stmt).decode()[:90].replace("\n", " ")
            used[sql] += SQLITE.sqlite3_stmt_status(stmt, STMTSTATUS_MEMUSED, 0)
            count[sql] += 1
            stmt = SQLITE.sqlite3_next_stmt(db, stmt)
    lines += [f"  {size / MB:6.2f} MB x{count[sql]:3d} {sql}" for sql, size in used.most_common(8)]
    return lines


def mark(name: str) -> None:
    LINES.append(f"MARK {name:32s} {status()}")
    LINES.extend(statements())
    OUT.write_text("\n".join(LINES) + "\n")


def sample(stop: threading.Event) -> None:
    high = 0.0
    while not stop.wait(0.2):
        line = status()
        hwm = float(line.split("hwm=")[1].split()[0])
        if hwm > high + 1:
            high = hwm
            LINES.append(f"hwm up {' ' * 31}{line}")


def patch() -> None:
    """Mark the phase ends of ``sync webinar``; note every SQLite connection opened."""
    import sqlalchemy as sa  # noqa: PLC0415
    from sqlalchemy.pool import Pool  # noqa: PLC0415

    import zoom_brevo.pipeline.sync as pipeline  # noqa: PLC0415
    import zoom_brevo.usecases.sync as usecase  # noqa: PLC0415

    sa.event.listen(Pool, "connect", lambda dbapi, _record: CONNECTIONS.append(dbapi))
    finish, deliver, attend = pipeline._finish, usecase.deliver, pipeline._webinar_attendance

    async def attended(*args: Any, **kwargs: Any) -> None:
        mark("registrants+reports collected")
        await attend(*args, **kwargs)
        mark("participants collected")

    def finished(*args: Any, **kwargs: Any) -> None:
        finish(*args, **kwargs)
        mark("derived")

    async def delivered(*args: Any, **kwargs: Any) -> Any:
        report = await deliver(*args, **kwargs)
        mark("delivered")
        return report

    pipeline._finish, usecase.deliver = finished, delivered
    pipeline._webinar_attendance = attended


def main() -> None:
    _python, _flag, code, *rest = sys.argv[1:]
    sys.argv = ["-c", *rest]
    stop = threading.Event()
    threading.Thread(target=sample, args=(stop,), daemon=True).start()
    patch()
    mark("imported")
    try:
        exec(compile(code, "<cli>", "exec"), {"__name__": "__main__"})  # noqa: S102
    finally:
        stop.set()
        LINES.append(f"SQLite connections opened: {len(CONNECTIONS)}")
        OUT.write_text("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
