"""Zoom's REST error body ``{"code", "message"}`` as an exception the app renders."""

from __future__ import annotations


class ZoomError(Exception):
    """Answer ``status`` with ``{"code": code, "message": message}`` (reference zoom.md 1.3)."""

    def __init__(
        self, status: int, code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.errors: list[dict[str, str]] = []  # validation errors: [{field, message}]
        super().__init__(message)

    def body(self) -> dict[str, object]:
        """The JSON body Zoom sends."""
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body
