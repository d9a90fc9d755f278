"""Registrants: the registration form's answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

``answers`` holds Zoom's standard registration fields and the custom questions' answers
(``zoom.registration_form``), so that ``field_mapping`` can send them to Brevo. Rows
stored before this revision have none until the next sync or registration webhook.
"""

from __future__ import annotations

import sqlalchemy as sa

from zoom_brevo.store.migrations.steps import nullable_column

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Nullable: no answers known.
upgrade, downgrade = nullable_column("registrants", "answers", sa.JSON(none_as_null=True))
