"""Meeting instances: the occurrence of a recurring meeting or webinar they were.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

``occurrence_id`` is Zoom's id of the occurrence an instance held (the scheduled start in
milliseconds since the epoch, as ``GET /webinars/{webinarId}`` lists it); ``NULL`` for an
instance of a meeting or webinar that does not recur, and for rows stored before.
"""

from __future__ import annotations

import sqlalchemy as sa

from zoom_brevo.store.migrations.steps import nullable_column

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Nullable: not every instance is an occurrence.
upgrade, downgrade = nullable_column("meeting_instances", "occurrence_id", sa.String(32))
