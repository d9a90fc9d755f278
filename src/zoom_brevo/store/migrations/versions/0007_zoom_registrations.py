"""Registrations made in Zoom by ``zoom-brevo register``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

One row per webinar, occurrence (``""``: every occurrence) and lower-cased address, with
the registrant id and join link Zoom gave, so that running ``register`` again registers
nobody twice (and makes no Zoom call for them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "zoom_registrations"


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        TABLE,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("webinar_id", sa.BigInteger(), nullable=False),
        sa.Column("occurrence_id", sa.String(100), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("registrant_id", sa.String(100), nullable=False),
        sa.Column("join_url", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_zoom_registrations"),
        sa.UniqueConstraint(
            "webinar_id",
            "occurrence_id",
            "email",
            name="uq_zoom_registrations_webinar_id_occurrence_id_email",
        ),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table(TABLE)
