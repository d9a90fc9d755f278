"""Index jobs by ``unique_key`` in byte order on PostgreSQL (kept leaves found by prefix).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

``jobs.settle_moot`` ends the kept leaves of an instance (``pair_leave:<uuid>:...``) after
each collect. ``LIKE 'prefix%'`` could not use the unique index under a database collation
other than C, so every collect scanned the jobs table; the prefix is now a range compared
``COLLATE "C"`` (``_sql.starts_with``), which this index serves. SQLite compares in byte
order already and gets no index.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEX = "ix_jobs_unique_key_bytes"


def upgrade() -> None:
    """Create the index (PostgreSQL only)."""
    if op.get_context().dialect.name == "postgresql":
        op.create_index(
            INDEX, "jobs", ["unique_key"], postgresql_ops={"unique_key": "text_pattern_ops"}
        )


def downgrade() -> None:
    """Drop the index (PostgreSQL only)."""
    if op.get_context().dialect.name == "postgresql":
        op.drop_index(INDEX, table_name="jobs")
