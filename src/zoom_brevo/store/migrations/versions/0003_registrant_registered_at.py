"""Registrants: when the person registered.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

``registered_at`` (Zoom's registrant ``create_time``, or the registration webhook's
``event_ts``) orders a registration to an upcoming webinar against the instances a person
attended: deriving an older webinar again must not overwrite the ``registered`` status
that a later registration set (``pipeline.derive.superseded``). Rows stored before this
revision have none and never supersede anything.
"""

from __future__ import annotations

import sqlalchemy as sa

from zoom_brevo.store.migrations.steps import nullable_column

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# Nullable: earlier rows stay without it.
upgrade, downgrade = nullable_column("registrants", "registered_at", sa.DateTime(timezone=True))
