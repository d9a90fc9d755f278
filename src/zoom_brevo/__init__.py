"""zoom-brevo: Zoom meetings and webinars to Brevo contacts, events and follow-ups."""

__version__ = "0.1.0"
