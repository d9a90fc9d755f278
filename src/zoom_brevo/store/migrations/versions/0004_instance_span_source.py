"""Meeting instances: where their span came from.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

``span_source`` (``live`` | ``event`` | ``report``) ranks the observation that set an
instance's start and end (``store.facts``): a participant webhook can no longer overwrite
the span that ``meeting.ended`` or Zoom's final report established. Rows stored before
this revision have none; the next observation of any source sets it.
"""

from __future__ import annotations

import sqlalchemy as sa

from zoom_brevo.store.migrations.steps import nullable_column

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# Nullable: earlier rows stay without a source.
upgrade, downgrade = nullable_column("meeting_instances", "span_source", sa.String(20))
