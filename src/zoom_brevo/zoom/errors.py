"""The Zoom error codes callers outside ``zoom/`` act on, as exceptions of their own.

``zoom.responses.map_error`` raises them; callers catch the type instead of comparing
codes, so what a code means is known in ``zoom/`` only (reference zoom.md 1.3, 2.2).
"""

from __future__ import annotations

from zoom_brevo.errors import AuthError, NotFound


class NoSuchMeeting(NotFound):
    """Code 3001: Zoom has no such meeting or webinar (or none it has finished processing).

    Right after an instance ended, the same code means "not processed yet"; a caller who
    knows the instance exists treats it as ``NotReady`` (reference zoom.md 2.4).
    """


class BeyondRetention(NotFound):
    """Code 12702: Zoom keeps this meeting's details or report no longer (reference zoom.md 2.2)."""


class NotOnPlan(AuthError):
    """Code 200: the account's plan (or the app's permissions) lacks this API or feature.

    Zoom answers it for paid-only and webinar-add-on APIs (reference zoom.md 2.2); a caller
    reading an optional report (the webinar survey) skips it instead of failing.
    """
