"""``people_of`` pages an instance's attendees through the (instance, source, email) index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_brevo.pipeline.derive import InstanceInfo
from zoom_brevo.pipeline.gather import people_of
from zoom_brevo.store.engine import create_engine, migrate

INDEX = "ix_attendance_sessions_instance_uuid_source_email"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(eng)
    yield eng
    eng.dispose()


def test_a_page_of_attendees_is_read_in_email_order_from_the_index_not_sorted(
    engine: Engine,
) -> None:
    statements: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", remember)
    info = InstanceInfo("webinar", "inst-1", 42, "Webinar", None, None)
    with engine.connect() as conn:
        assert people_of(conn, info, after="", limit=500) == []
        statement, params = statements[-1]
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)]

    sessions = [step for step in plan if "attendance_sessions" in step]
    search = f"SEARCH attendance_sessions USING COVERING INDEX {INDEX}"
    assert sessions == [f"{search} (instance_uuid=? AND source=? AND email>?)"]
