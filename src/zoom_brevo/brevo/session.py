"""The request loop under the Brevo client: limiter, one send, error mapping, retries.

Retry rules: only what is always safe is retried here (reference brevo.md sections 5 and
6); anything else is raised for the outbox or the job, which decide with the one retry
decision (``retrying.decide``) and count the attempt in the database, so the layers do
not multiply.

- 429: nothing was done; wait ``x-sib-ratelimit-reset`` seconds (pausing the family's
  per-second bucket for every caller) and retry. A wait longer than ``max_wait_s`` is raised
  as ``RateLimited`` for the caller to schedule.
- A request that never left (connect error, connect or pool timeout): retried with jittered
  exponential backoff, whatever the method.
- 5xx and other transport errors (a read timeout, a dropped connection): retried only for
  an idempotent method (``GET``, ``DELETE``: RFC 9110 9.2.2). A ``POST`` that may have
  reached Brevo is raised: an event or a campaign send has no idempotency key at Brevo, and
  even an upsert or an e-mail with a key is for the layer that counts attempts to retry.

The rule is ``retrying.client_may_retry``, shared with the Zoom client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.brevo.families import family_of, limiter_keys, windows
from zoom_brevo.brevo.responses import SERVICE, ErrorBody, error_for, parse_error_body
from zoom_brevo.errors import ApiError, RateLimited, RetriableApiError
from zoom_brevo.observe import IGNORE, NO_RESPONSE, ApiCall, ApiObserver
from zoom_brevo.ratelimit import RateLimiter
from zoom_brevo.retrying import client_may_retry, exhausted, server_wait_s

Soft = Callable[[int, ErrorBody], bool]
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class Call:
    """One API call: ``path`` relative to the base URL, ``template`` names it in messages."""

    method: str
    path: str
    template: str
    json_body: Any = None
    content: bytes | None = None
    params: Mapping[str, str | int | Sequence[int]] | None = None  # a sequence: repeated
    soft: Soft | None = None

    @property
    def operation(self) -> str:
        """``"POST /contacts/import"``: safe to log, no identifiers or secrets."""
        return f"{self.method} {self.template}"


@dataclass(frozen=True, slots=True)
class _Failure:
    error: ApiError
    never_sent: bool = False


class Session:
    """Sends calls with the API key, honouring limits and retrying what is always safe."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_key: str,
        *,
        plan: str,
        limiter: RateLimiter,
        backoff: BackoffPolicy,
        max_wait_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        observer: ApiObserver = IGNORE,
    ) -> None:
        self._http = http
        self._observer = observer
        self._headers = {"api-key": api_key, "accept": "application/json"}
        self._plan = plan
        self._limiter = limiter
        self._backoff = backoff
        self._max_wait_s = max_wait_s
        self._sleep = sleep

    async def send(self, call: Call) -> httpx.Response:
        """The response of ``call`` (a 2xx, or an error ``call.soft`` accepts); else raise."""
        family = family_of(call.method, call.path)
        attempt = 0
        while True:
            for key in limiter_keys(family):
                await self._limiter.acquire(key)
            outcome = await self._attempt(call)
            if isinstance(outcome, httpx.Response):
                return outcome
            attempt += 1
            wait_s = self._retry_wait(call, outcome, attempt)
            if wait_s is None:
                raise outcome.error
            pause_key = self._pause_key(call)
            if isinstance(outcome.error, RateLimited) and pause_key is not None:
                await self._limiter.pause(pause_key, wait_s)
            await self._sleep(wait_s)

    async def _attempt(self, call: Call) -> httpx.Response | _Failure:
        headers = dict(self._headers)
        if call.json_body is not None or call.content is not None:
            headers["content-type"] = "application/json"
        started = time.perf_counter()
        try:
            response = await self._http.request(
                call.method,
                call.path.lstrip("/"),
                json=call.json_body,
                content=call.content,
                params=call.params,
                headers=headers,
            )
        except httpx.TransportError as exc:
            self._observe(call, NO_RESPONSE, started)
            error = RetriableApiError(
                f"Brevo {call.operation}: {type(exc).__name__} talking to the API; tried "
                "again later. If this persists, check the network and brevo.base_url.",
                service=SERVICE,
            )
            error.__cause__ = exc
            return _Failure(error, never_sent=isinstance(exc, _NEVER_SENT))
        self._observe(call, response.status_code, started)
        if not response.is_error:
            return response
        if call.soft is not None and call.soft(
            response.status_code, parse_error_body(response.content)
        ):
            return response
        mapped = error_for(
            response.status_code, response.content, response.headers, operation=call.operation
        )
        assert mapped is not None
        return _Failure(mapped)

    def _observe(self, call: Call, status: int, started: float) -> None:
        family = family_of(call.method, call.path)
        latency_s = time.perf_counter() - started
        self._observer.on_api_call(ApiCall(SERVICE, family, status, latency_s))

    def _retry_wait(self, call: Call, failure: _Failure, attempt: int) -> float | None:
        if exhausted(attempt, self._backoff.max_attempts):
            return None
        error = failure.error
        if not client_may_retry(call.method, error, never_sent=failure.never_sent):
            return None
        wait_s = server_wait_s(error)
        if wait_s is None:
            return self._backoff.delay_s(attempt - 1)
        return wait_s if wait_s <= self._max_wait_s else None

    def _pause_key(self, call: Call) -> str | None:
        # Only a per-second bucket is paused for everyone: pausing an hourly bucket would
        # forfeit the hour's saved budget, so hour-only families just wait in this caller.
        family = family_of(call.method, call.path)
        second_key, _ = limiter_keys(family)
        per_s, _ = windows(self._plan, family)
        return second_key if per_s is not None else None
