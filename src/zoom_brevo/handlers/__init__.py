"""Stored Zoom webhooks -> facts, Brevo commands and jobs (see ``dispatch`` and ``jobs``)."""
