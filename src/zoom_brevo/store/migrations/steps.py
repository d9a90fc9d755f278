"""Migration steps that several revisions take in the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

Step = Callable[[], None]


def nullable_column(table: str, name: str, type_: sa.types.TypeEngine[Any]) -> tuple[Step, Step]:
    """``upgrade`` and ``downgrade`` of a revision that adds one nullable column to ``table``.

    Rows stored before the revision have ``NULL`` in it. The downgrade drops it in batch
    mode: SQLite cannot drop a column in place.
    """

    def upgrade() -> None:
        """Add the column."""
        op.add_column(table, sa.Column(name, type_))

    def downgrade() -> None:
        """Drop the column."""
        with op.batch_alter_table(table) as batch:
            batch.drop_column(name)

    return upgrade, downgrade
