"""Registrations made by ``register`` name the kind of Zoom object: meeting or webinar.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

A Zoom meeting and a Zoom webinar are different objects, and nothing in a number says
which one it is; ``register`` now registers into both. The key becomes (kind, id,
occurrence, address), the id column is renamed ``meeting_id`` as in the rest of the store
(Zoom's reports call a webinar's id a meeting id too), and every row stored before is a
webinar registration: ``register`` knew no other kind.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "zoom_registrations"
OLD_KEY = "uq_zoom_registrations_webinar_id_occurrence_id_email"
NEW_KEY = "uq_zoom_registrations_kind_meeting_id_occurrence_id_email"


def upgrade() -> None:
    """Add ``kind`` (existing rows: webinar), rename the id, re-key the table."""
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="webinar"))
        batch.drop_constraint(OLD_KEY, type_="unique")
        batch.alter_column("webinar_id", new_column_name="meeting_id")
    # A second batch: SQLite's copy-and-move loses a constraint on columns the same batch
    # adds or renames.
    with op.batch_alter_table(TABLE) as batch:
        batch.create_unique_constraint(NEW_KEY, ["kind", "meeting_id", "occurrence_id", "email"])


def downgrade() -> None:
    """Back to webinars only: meeting registrations cannot be kept."""
    op.execute(sa.text("DELETE FROM zoom_registrations WHERE kind <> 'webinar'"))
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(NEW_KEY, type_="unique")
        batch.alter_column("meeting_id", new_column_name="webinar_id")
        batch.drop_column("kind")
    with op.batch_alter_table(TABLE) as batch:
        batch.create_unique_constraint(OLD_KEY, ["webinar_id", "occurrence_id", "email"])
