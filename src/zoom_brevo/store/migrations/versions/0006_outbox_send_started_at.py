"""Outbox: when a send began, so that a send whose outcome was never recorded is known.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

``send_started_at`` is set on an event command just before its request goes to Brevo and
cleared when the row is settled (done, retried, dead, given back). A row claimed with it
still set is *in doubt*: a worker died or was cut off between the request and the
settlement, and Brevo may hold the event already (``delivery.in_doubt``).
"""

from __future__ import annotations

import sqlalchemy as sa

from zoom_brevo.store.migrations.steps import nullable_column

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# Nullable: no send is under way in earlier rows.
upgrade, downgrade = nullable_column("outbox", "send_started_at", sa.DateTime(timezone=True))
