"""Attendance sessions: the registrant id of a staged row waiting for its e-mail.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08

A webinar's participant report names some attendees only by registrant id. Their rows
used to get the registration's e-mail when staged, so the report had to wait until the
registrants were stored; the rows are now staged with the id, and the switch-in
(``pipeline.staging.promote``) gives them the e-mail. Only staged rows carry it.
"""

from __future__ import annotations

import sqlalchemy as sa

from zoom_brevo.store.migrations.steps import nullable_column

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


upgrade, downgrade = nullable_column("attendance_sessions", "registrant_id", sa.String(100))
