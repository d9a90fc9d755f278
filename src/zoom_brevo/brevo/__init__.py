"""Brevo only: the async REST client, its models, rate-limit families and batching."""

from zoom_brevo.brevo.client import BrevoClient

__all__ = ["BrevoClient"]
