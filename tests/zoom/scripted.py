"""A scripted Zoom whose report bodies arrive in chunks (and may break off)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.zoom.client import ZoomClient

UUID = "wPUYIy/pR2mPs5r9no2GmA=="


def entry(n: int) -> dict[str, Any]:
    details = [{"polling_id": f"p{n % 3}", "question": "Why?", "answer": "Because"}]
    return {"email": f"person{n}@example.com", "name": f"Person {n}", "question_details": details}


def report_body(entries: int, *, summary_last: bool = False) -> bytes:
    head = {"id": 9_100_200_300, "uuid": UUID, "start_time": "2026-11-27T10:00:00Z"}
    rows = {"questions": [entry(n) for n in range(entries)]}
    ordered = {**rows, **head} if summary_last else {**head, **rows}
    return json.dumps(ordered).encode()


class Chunks(httpx.AsyncByteStream):
    """A body sent in small chunks; counts how many were sent; may break at chunk ``cut``."""

    def __init__(self, body: bytes, size: int = 64, cut: int | None = None) -> None:
        self.parts = [body[i : i + size] for i in range(0, len(body), size)]
        self.sent = 0
        self.cut = cut

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            if self.sent == self.cut:
                raise httpx.RemoteProtocolError("peer closed connection")
            self.sent += 1
            yield part


class Zoom:
    """A scripted Zoom answering the report path with the next body of ``bodies``."""

    def __init__(self, *bodies: Chunks | httpx.Response) -> None:
        self.bodies = list(bodies)
        self.api_calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        self.api_calls += 1
        body = self.bodies.pop(0)
        return body if isinstance(body, httpx.Response) else httpx.Response(200, stream=body)

    def client(self) -> ZoomClient:
        return ZoomClient.server_to_server(
            account_id="acct",
            client_id="cid",
            client_secret="csecret",
            api_base_url="https://api.test/v2",
            oauth_base_url="https://oauth.test",
            transport=httpx.MockTransport(self),
            limiter=LocalRateLimiter({}),
        )
