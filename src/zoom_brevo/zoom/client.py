"""Async Zoom REST client: typed pages, per-category rate limits, retries, one error map.

Every call acquires its category's limiter keys (and the daily cap where it applies), is
sent with the auth's bearer token, and is retried here only when that is always safe
(``retrying.client_may_retry``): a 429, a request that never left, and for the reads and
deletes (idempotent) a 5xx or transport error; with the server's Retry-After or
exponential backoff with jitter, up to the policy's attempts. A ``POST`` (adding a
registrant, which spends the person's daily quota) that may have reached Zoom is raised
for the job to decide (``retrying.decide``). Waits longer than ``max_wait_s`` (a daily
limit's Retry-After date) are not slept through: the RateLimited error goes up with its
``retry_after_s`` for the caller to reschedule.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar

import httpx
import pydantic
import structlog

from zoom_brevo.backoff import BackoffPolicy, parse_retry_after
from zoom_brevo.errors import (
    ApiError,
    FatalApiError,
    RateLimited,
    RegistrantLimitReached,
    RetriableApiError,
)
from zoom_brevo.observe import IGNORE, NO_RESPONSE, ApiCall, ApiObserver
from zoom_brevo.pooled import PooledClient
from zoom_brevo.ratelimit import RateLimiter
from zoom_brevo.retrying import client_may_retry
from zoom_brevo.zoom import categories as ep
from zoom_brevo.zoom import paging
from zoom_brevo.zoom.auth import ServerToServerAuth, decode_json
from zoom_brevo.zoom.categories import Endpoint, Kind, Plan, limiter_keys
from zoom_brevo.zoom.models import (
    AddedRegistrant,
    Meeting,
    Participant,
    PastInstance,
    PastMeeting,
    PollEntry,
    QAEntry,
    Recording,
    RecordingSummary,
    RecordingView,
    Registrant,
    RegistrationQuestions,
    ReportMeeting,
    SurveyEntry,
    TokenInfo,
    TrackingSource,
    User,
    Webinar,
    WebinarReport,
)
from zoom_brevo.zoom.oauth import UserOAuth
from zoom_brevo.zoom.paths import expand
from zoom_brevo.zoom.reports import Report
from zoom_brevo.zoom.responses import (
    BAD_PAGE_TOKEN,
    GONE_CODES,
    SERVICE,
    map_error,
    read_as,
)

log = structlog.get_logger(__name__)

M = TypeVar("M", bound=pydantic.BaseModel)
T = TypeVar("T")
_Outcome = tuple[T | ApiError, BaseException | None]
Id = str | int

DEFAULT_API_BASE_URL = "https://api.zoom.us/v2"
DEFAULT_OAUTH_BASE_URL = "https://zoom.us"
REGISTRANT_ID = {"include_fields": "registrant_id"}
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
NO_CONTENT = 204


class _TokenWouldLapse(Exception):
    """Waiting any longer would send a dead page token; restart the listing (internal).

    ``wait_s`` is the wait still owed to Zoom (Retry-After) before the restart.
    """

    def __init__(self, wait_s: float = 0.0) -> None:
        super().__init__(wait_s)
        self.wait_s = wait_s


class ZoomClient(PooledClient):
    """Zoom REST API v2 (read side used by the connector). Use as ``async with``.

    ``limiter`` is required: Zoom's limits are per account, so every client spends the
    budget the caller shares with the other processes (``wiring.shared_limiter``).
    ``observer`` is told of every HTTP exchange (``zoom_brevo.observe``).
    """

    def __init__(
        self,
        auth: httpx.Auth,
        *,
        limiter: RateLimiter,
        api_base_url: str = DEFAULT_API_BASE_URL,
        plan: Plan = "pro",
        backoff: BackoffPolicy | None = None,
        max_wait_s: float = 120.0,
        page_size: int = paging.PAGE_SIZE,
        page_token_budget_s: float = paging.PAGE_TOKEN_BUDGET_S,
        timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        observer: ApiObserver = IGNORE,
    ) -> None:
        self._auth = auth
        self._observer = observer
        self._base = api_base_url.rstrip("/")
        self._plan: Plan = plan
        self._limiter = limiter
        self._backoff = backoff or BackoffPolicy()
        self._max_wait_s = max_wait_s
        self._page_size = page_size
        self._budget_s = page_token_budget_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            timeout=timeout_s, transport=transport, headers={"User-Agent": "zoom-brevo"}
        )

    @classmethod
    def server_to_server(
        cls,
        *,
        account_id: str,
        client_id: str,
        client_secret: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        limiter: RateLimiter,
        oauth_base_url: str = DEFAULT_OAUTH_BASE_URL,
        plan: Plan = "pro",
        **options: Any,
    ) -> ZoomClient:
        """A client authenticated with a Server-to-Server OAuth app (reference zoom.md 1.1).

        ``options`` are the keyword options of ``ZoomClient`` (backoff, clock, ...).
        """
        auth = ServerToServerAuth(
            account_id=account_id,
            client_id=client_id,
            client_secret=client_secret,
            oauth_base_url=oauth_base_url,
            clock=options.get("clock", time.monotonic),
        )
        return cls(auth, api_base_url=api_base_url, plan=plan, limiter=limiter, **options)

    def __repr__(self) -> str:
        return f"ZoomClient(api_base_url={self._base!r}, plan={self._plan!r})"

    async def verify_credentials(self) -> TokenInfo:
        """Fetch a token now; AuthError if Zoom refuses the credentials."""
        if isinstance(self._auth, ServerToServerAuth):
            token = await self._auth.fetch_token(self._http)
            return TokenInfo(
                scope=token.scope, expires_in_s=token.expires_in_s, api_url=token.api_url
            )
        if isinstance(self._auth, UserOAuth):
            tokens = self._auth.tokens
            left = max(0, int(tokens.expires_at - self._wall_clock()))
            return TokenInfo(scope=tokens.scope, expires_in_s=left)
        raise TypeError(f"cannot verify credentials of {type(self._auth).__name__}")

    # --- users and scheduled meetings / webinars -------------------------------------

    def users(self, *, status: str = "active") -> AsyncIterator[User]:
        """All users of the account (``GET /users``)."""
        return self._paginate(ep.USERS, {}, {"status": status}, User)

    def user_meetings(
        self,
        user_id: str,
        *,
        type: str = "scheduled",
        from_: date | None = None,
        to: date | None = None,
    ) -> AsyncIterator[Meeting]:
        """A user's scheduled meetings (``GET /users/{userId}/meetings``)."""
        query = {"type": type, "from": _day(from_), "to": _day(to)}
        return self._paginate(ep.USER_MEETINGS, {"user_id": user_id}, query, Meeting)

    async def meeting(self, meeting_id: Id, *, previous_occurrences: bool = False) -> Meeting:
        """One scheduled meeting (``GET /meetings/{meetingId}``); ``previous_occurrences``:
        list the occurrences that are over too (Zoom lists only upcoming ones otherwise)."""
        query = _previous(previous_occurrences)
        return await self._get_one(ep.MEETING, {"meeting_id": meeting_id}, Meeting, query=query)

    def meeting_registrants(
        self, meeting_id: Id, *, status: str = "approved", occurrence_id: str | None = None
    ) -> AsyncIterator[Registrant]:
        """Registrants of a meeting (``GET /meetings/{meetingId}/registrants``)."""
        query = {"status": status, "occurrence_id": occurrence_id}
        return self._paginate(ep.MEETING_REGISTRANTS, {"meeting_id": meeting_id}, query, Registrant)

    def user_webinars(
        self,
        user_id: str,
        *,
        type: str = "scheduled",
    ) -> AsyncIterator[Webinar]:
        """A user's webinars (``GET /users/{userId}/webinars``)."""
        return self._paginate(ep.USER_WEBINARS, {"user_id": user_id}, {"type": type}, Webinar)

    async def webinar(self, webinar_id: Id, *, previous_occurrences: bool = False) -> Webinar:
        """One webinar (``GET /webinars/{webinarId}``); ``previous_occurrences`` as for
        ``meeting``."""
        query = _previous(previous_occurrences)
        return await self._get_one(ep.WEBINAR, {"webinar_id": webinar_id}, Webinar, query=query)

    async def scheduled(self, kind: Kind, zoom_id: Id) -> Meeting:
        """A meeting or webinar, as ``kind`` says (``GET /meetings|webinars/{id}``)."""
        return await (self.meeting(zoom_id) if kind == "meeting" else self.webinar(zoom_id))

    def webinar_registrants(
        self,
        webinar_id: Id,
        *,
        status: str = "approved",
        occurrence_id: str | None = None,
        tracking_source_id: str | None = None,
    ) -> AsyncIterator[Registrant]:
        """Registrants of a webinar (``GET /webinars/{webinarId}/registrants``)."""
        query = {
            "status": status,
            "occurrence_id": occurrence_id,
            "tracking_source_id": tracking_source_id,
        }
        return self._paginate(ep.WEBINAR_REGISTRANTS, {"webinar_id": webinar_id}, query, Registrant)

    async def registration_questions(self, kind: Kind, zoom_id: Id) -> RegistrationQuestions:
        """The registration form of a webinar or meeting: standard fields and custom
        questions, with what is required (LIGHT). Zoom answers 3000 when registration is
        not enabled."""
        endpoint = ep.REGISTRATION[kind].questions
        return await self._get_one(endpoint, {f"{kind}_id": zoom_id}, RegistrationQuestions)

    async def add_registrant(
        self,
        kind: Kind,
        zoom_id: Id,
        registrant: Mapping[str, Any],
        *,
        occurrence_ids: Sequence[str] = (),
    ) -> AddedRegistrant:
        """Register someone into a webinar or meeting (``POST /webinars/{webinarId}/
        registrants`` or ``/meetings/{meetingId}/registrants``, LIGHT).

        ``registrant`` is the request body (``email``, ``first_name``, ``last_name``,
        ``custom_questions``, ...). Zoom answers an address already registered with its
        existing registration, so retrying is safe. Its per-person daily limit (3 requests)
        raises ``RegistrantLimitReached`` without holding back other calls.
        """
        endpoint = ep.REGISTRATION[kind].add
        query = {"occurrence_ids": ",".join(occurrence_ids)} if occurrence_ids else {}
        body = dict(registrant)

        async def attempt(
            endpoint: Endpoint, path: str, params: Mapping[str, Any], not_ready: bool
        ) -> _Outcome[dict[str, Any]]:
            outcome, cause = await self._read(endpoint, path, params, not_ready, json_body=body)
            return _per_person_limit(outcome), cause

        path = expand(endpoint.path, **{f"{kind}_id": zoom_id})
        found = await self._retrying(endpoint, attempt, path, query)
        return read_as(AddedRegistrant, found, endpoint.path)

    def webinar_tracking_sources(self, webinar_id: Id) -> AsyncIterator[TrackingSource]:
        """Registration tracking sources of a webinar (one response, no pages)."""
        return self._list(ep.WEBINAR_TRACKING_SOURCES, {"webinar_id": webinar_id}, TrackingSource)

    # --- past meetings and webinars --------------------------------------------------
    # ``just_ended=True``: the instance ended moments ago, so Zoom's 3001 means "not
    # processed yet" and raises NotReady instead of NotFound (reference zoom.md 2.4).

    async def past_meeting(
        self, meeting_id_or_uuid: Id, *, just_ended: bool = False
    ) -> PastMeeting:
        """Details of an ended instance (``GET /past_meetings/{meetingId}``)."""
        ids = {"meeting_id": meeting_id_or_uuid}
        return await self._get_one(ep.PAST_MEETING, ids, PastMeeting, not_ready=just_ended)

    def past_meeting_instances(self, meeting_id: Id) -> AsyncIterator[PastInstance]:
        """UUIDs of a meeting's ended instances (one response, no pages)."""
        return self._list(ep.PAST_MEETING_INSTANCES, {"meeting_id": meeting_id}, PastInstance)

    def past_meeting_participants(
        self, meeting_id_or_uuid: Id, *, just_ended: bool = False
    ) -> AsyncIterator[Participant]:
        """Join sessions of an ended meeting (``GET /past_meetings/{id}/participants``)."""
        ids = {"meeting_id": meeting_id_or_uuid}
        return self._paginate(
            ep.PAST_MEETING_PARTICIPANTS, ids, {}, Participant, not_ready=just_ended
        )

    def meeting_participant_report(
        self, meeting_id_or_uuid: Id, *, just_ended: bool = False
    ) -> AsyncIterator[Participant]:
        """Participant report of a meeting, with registrant IDs (HEAVY)."""
        ids = {"meeting_id": meeting_id_or_uuid}
        return self._paginate(
            ep.MEETING_PARTICIPANT_REPORT, ids, REGISTRANT_ID, Participant, not_ready=just_ended
        )

    def past_webinar_instances(self, webinar_id: Id) -> AsyncIterator[PastInstance]:
        """UUIDs of a webinar's ended instances (one response, no pages)."""
        return self._list(ep.PAST_WEBINAR_INSTANCES, {"webinar_id": webinar_id}, PastInstance)

    def past_webinar_participants(
        self, webinar_id_or_uuid: Id, *, just_ended: bool = False
    ) -> AsyncIterator[Participant]:
        """Join sessions of an ended webinar (``GET /past_webinars/{id}/participants``)."""
        ids = {"webinar_id": webinar_id_or_uuid}
        return self._paginate(
            ep.PAST_WEBINAR_PARTICIPANTS, ids, {}, Participant, not_ready=just_ended
        )

    def webinar_absentees(
        self,
        webinar_id_or_uuid: Id,
        *,
        occurrence_id: str | None = None,
        just_ended: bool = False,
    ) -> AsyncIterator[Registrant]:
        """Registrants who did not attend an ended webinar (HEAVY)."""
        ids = {"webinar_id": webinar_id_or_uuid}
        query = {"occurrence_id": occurrence_id}
        return self._paginate(ep.WEBINAR_ABSENTEES, ids, query, Registrant, not_ready=just_ended)

    async def webinar_report(
        self, webinar_id_or_uuid: Id, *, just_ended: bool = False
    ) -> WebinarReport:
        """An ended webinar instance's actual start, end and length (HEAVY)."""
        ids = {"webinar_id": webinar_id_or_uuid}
        return await self._get_one(
            ep.WEBINAR_DETAILS_REPORT, ids, WebinarReport, not_ready=just_ended
        )

    def webinar_participant_report(
        self, webinar_id_or_uuid: Id, *, just_ended: bool = False
    ) -> AsyncIterator[Participant]:
        """Participant report of a webinar, with registrant IDs (HEAVY)."""
        ids = {"webinar_id": webinar_id_or_uuid}
        return self._paginate(
            ep.WEBINAR_PARTICIPANT_REPORT, ids, REGISTRANT_ID, Participant, not_ready=just_ended
        )

    def webinar_qa_report(self, webinar_id_or_uuid: Id) -> Report[QAEntry]:
        """Questions asked in a webinar's Q&A, one attendee at a time (HEAVY)."""
        return self._report(ep.WEBINAR_QA_REPORT, webinar_id_or_uuid, QAEntry)

    def webinar_poll_report(self, webinar_id_or_uuid: Id) -> Report[PollEntry]:
        """Poll answers of a webinar, one attendee at a time (HEAVY)."""
        return self._report(ep.WEBINAR_POLL_REPORT, webinar_id_or_uuid, PollEntry)

    def webinar_survey_report(self, webinar_id_or_uuid: Id) -> Report[SurveyEntry]:
        """Survey answers of a webinar, one attendee at a time (HEAVY; code 200 raises
        ``NotOnPlan`` on a plan without surveys)."""
        return self._report(ep.WEBINAR_SURVEY_REPORT, webinar_id_or_uuid, SurveyEntry)

    # --- recordings and reports ------------------------------------------------------

    async def delete_registrant(
        self,
        kind: Literal["meeting", "webinar"],
        meeting_id: Id,
        registrant_id: str,
        *,
        occurrence_id: str | None = None,
    ) -> bool:
        """Delete one registration (LIGHT); ``False`` when Zoom no longer has it.

        Zoom answers 3000 "Registrant ... was not found" for a registrant already gone and
        3001 for a meeting or webinar that no longer exists: either way nothing is left.
        """
        endpoint = (
            ep.DELETE_WEBINAR_REGISTRANT if kind == "webinar" else ep.DELETE_MEETING_REGISTRANT
        )
        ids = {f"{kind}_id": meeting_id, "registrant_id": registrant_id}
        query = {"occurrence_id": occurrence_id} if occurrence_id else {}
        try:
            await self._call(endpoint, expand(endpoint.path, **ids), query)
        except ApiError as exc:
            if exc.code in GONE_CODES:
                return False
            raise
        return True

    async def meeting_recordings(
        self,
        meeting_id_or_uuid: Id,
        *,
        include_download_token: bool = False,
        ttl_s: int | None = None,
    ) -> Recording:
        """The cloud recording of an instance; NotFound (3301) when there is none."""
        query: dict[str, Any] = {"ttl": ttl_s}
        if include_download_token:
            query["include_fields"] = "download_access_token"
        ids = {"meeting_id": meeting_id_or_uuid}
        return await self._get_one(ep.MEETING_RECORDINGS, ids, Recording, query=query)

    def user_recordings(self, user_id: str, *, from_: date, to: date) -> AsyncIterator[Recording]:
        """A user's cloud recordings between two dates (Zoom allows at most one month)."""
        query = {"from": _day(from_), "to": _day(to)}
        return self._paginate(ep.USER_RECORDINGS, {"user_id": user_id}, query, Recording)

    def recording_registrants(
        self, meeting_id: Id, *, status: str = "approved"
    ) -> AsyncIterator[Registrant]:
        """People registered to view a meeting's on-demand recording (a registration, not a
        view: who watched is ``recording_views``)."""
        query = {"status": status}
        ids = {"meeting_id": meeting_id}
        return self._paginate(ep.RECORDING_REGISTRANTS, ids, query, Registrant)

    def recording_views(
        self, meeting_id_or_uuid: Id, *, from_: date, to: date, type: str = "by_view"
    ) -> AsyncIterator[RecordingView]:
        """Who watched (``by_view``) or downloaded the recording between two dates (at most
        one month); NotFound (3301) when the instance has no recording."""
        query = {"from": _day(from_), "to": _day(to), "type": type}
        ids = {"meeting_id": meeting_id_or_uuid}
        return self._paginate(ep.RECORDING_VIEWS, ids, query, RecordingView)

    async def recording_view_summary(
        self, meeting_id_or_uuid: Id, *, from_: date, to: date
    ) -> RecordingSummary:
        """How many people watched and downloaded the recording, per day (one month)."""
        query = {"from": _day(from_), "to": _day(to)}
        ids = {"meeting_id": meeting_id_or_uuid}
        return await self._get_one(ep.RECORDING_VIEW_SUMMARY, ids, RecordingSummary, query=query)

    def user_meeting_report(
        self,
        user_id: str,
        *,
        from_: date,
        to: date,
        type: str = "past",
    ) -> AsyncIterator[ReportMeeting]:
        """Meetings a user held, from the usage report (HEAVY; one-month range)."""
        query = {"from": _day(from_), "to": _day(to), "type": type}
        return self._paginate(ep.USER_MEETING_REPORT, {"user_id": user_id}, query, ReportMeeting)

    # --- machinery -------------------------------------------------------------------

    async def _paginate(
        self,
        endpoint: Endpoint,
        ids: Mapping[str, Id],
        params: Mapping[str, Any],
        model: type[M],
        *,
        not_ready: bool = False,
    ) -> AsyncIterator[M]:
        assert endpoint.items_key is not None
        path = expand(endpoint.path, **ids)
        cursor = paging.Cursor()
        while not cursor.done:
            query = paging.page_params(params, cursor, self._page_size)
            deadline = paging.token_deadline_s(cursor, self._budget_s)
            try:
                body = await self._call(endpoint, path, query, not_ready, deadline)
            except (_TokenWouldLapse, ApiError) as exc:
                cursor = self._restart_or_raise(endpoint, cursor, exc)
                if isinstance(exc, _TokenWouldLapse) and exc.wait_s > 0:
                    await self._sleep(exc.wait_s)
                continue
            cursor, rows = paging.advance(cursor, body, endpoint.items_key, self._clock())
            for row in rows:
                yield read_as(model, row, endpoint.path)

    def _restart_or_raise(
        self, endpoint: Endpoint, cursor: paging.Cursor, exc: Exception
    ) -> paging.Cursor:
        lapsed = isinstance(exc, _TokenWouldLapse) or (
            isinstance(exc, ApiError) and exc.code == BAD_PAGE_TOKEN and cursor.token is not None
        )
        if not lapsed:
            raise exc
        try:
            restarted = paging.restart(cursor)
        except paging.PaginationRestartsExhausted:
            raise RetriableApiError(
                f"Zoom's page tokens for {endpoint.path} kept expiring; try again later.",
                service=SERVICE,
            ) from exc
        log.warning("zoom_pagination_restarted", endpoint=endpoint.path, skip=restarted.skip)
        return restarted

    async def _list(
        self, endpoint: Endpoint, ids: Mapping[str, Id], model: type[M]
    ) -> AsyncIterator[M]:
        assert endpoint.items_key is not None
        body = await self._call(endpoint, expand(endpoint.path, **ids), {})
        for row in body.get(endpoint.items_key) or []:
            yield read_as(model, row, endpoint.path)

    async def _get_one(
        self,
        endpoint: Endpoint,
        ids: Mapping[str, Id],
        model: type[M],
        *,
        query: Mapping[str, Any] | None = None,
        not_ready: bool = False,
    ) -> M:
        params = {k: v for k, v in (query or {}).items() if v is not None}
        body = await self._call(endpoint, expand(endpoint.path, **ids), params, not_ready)
        return read_as(model, body, endpoint.path)

    def _report(self, endpoint: Endpoint, webinar_id_or_uuid: Id, model: type[M]) -> Report[M]:
        path = expand(endpoint.path, webinar_id=webinar_id_or_uuid)
        return Report(lambda: self._retrying(endpoint, self._open, path, {}), endpoint, model)

    async def _call(
        self,
        endpoint: Endpoint,
        path: str,
        params: Mapping[str, Any],
        not_ready: bool = False,
        deadline_s: float | None = None,
    ) -> dict[str, Any]:
        """One GET with rate limiting and bounded retries; the decoded JSON object."""
        return await self._retrying(
            endpoint, self._read, path, params, not_ready=not_ready, deadline_s=deadline_s
        )

    async def _retrying(
        self,
        endpoint: Endpoint,
        attempt: Callable[[Endpoint, str, Mapping[str, Any], bool], Awaitable[_Outcome[T]]],
        path: str,
        params: Mapping[str, Any],
        *,
        not_ready: bool = False,
        deadline_s: float | None = None,
    ) -> T:
        """``attempt`` under the rate limits until it succeeds or retrying is pointless."""
        attempts = max(1, self._backoff.max_attempts)
        for number in range(attempts):
            await self._acquire(endpoint)
            if deadline_s is not None and self._clock() > deadline_s:
                raise _TokenWouldLapse
            outcome, cause = await attempt(endpoint, path, params, not_ready)
            if not isinstance(outcome, ApiError):
                return outcome
            wait_s = self._retry_wait_s(outcome, number)
            if isinstance(outcome, RateLimited):  # hold back every caller of the category
                await self._limiter.pause(endpoint.category.key, wait_s)
            last = number + 1 >= attempts
            never_sent = isinstance(cause, _NEVER_SENT)
            retried = client_may_retry(endpoint.method, outcome, never_sent=never_sent)
            if not retried or last or wait_s > self._max_wait_s:
                raise outcome from cause
            await self._before_retry(endpoint, outcome, wait_s, deadline_s, number)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read(
        self,
        endpoint: Endpoint,
        path: str,
        params: Mapping[str, Any],
        not_ready: bool,
        *,
        json_body: Any = None,
    ) -> _Outcome[dict[str, Any]]:
        """One call read whole: the JSON object, or the error to retry or raise."""
        opened, cause = await self._open(endpoint, path, params, not_ready, json_body=json_body)
        if isinstance(opened, ApiError):
            return opened, cause
        try:
            await opened.aread()
        except httpx.TransportError as exc:
            return _unreachable(exc), exc
        finally:
            await opened.aclose()
        if opened.status_code == NO_CONTENT:  # a DELETE's answer
            return {}, None
        body = decode_json(opened)
        if isinstance(body, dict):
            return body, None
        return _malformed(endpoint, opened.status_code), None

    async def _open(
        self,
        endpoint: Endpoint,
        path: str,
        params: Mapping[str, Any],
        not_ready: bool = False,
        *,
        json_body: Any = None,
    ) -> _Outcome[httpx.Response]:
        """One call up to a success's status line (its body unread, to be closed by the
        caller), or the error an unsuccessful answer maps to."""
        url = f"{self._base}{path}"
        request = self._http.build_request(endpoint.method, url, params=params, json=json_body)
        started = time.perf_counter()
        try:
            response = await self._http.send(request, auth=self._auth, stream=True)
        except httpx.TransportError as exc:
            self._observe(endpoint, NO_RESPONSE, started)
            return _unreachable(exc), exc
        except RetriableApiError as exc:  # the token endpoint failed; retry the whole call
            return exc, None
        self._observe(endpoint, response.status_code, started)
        if response.is_success:
            return response, None
        try:
            await response.aread()
        except httpx.TransportError as exc:
            return _unreachable(exc), exc
        finally:
            await response.aclose()
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"), datetime.fromtimestamp(self._wall_clock(), UTC)
        )
        return map_error(
            response.status_code,
            decode_json(response),
            retry_after_s=retry_after,
            not_ready=not_ready,
            scopes=endpoint.scopes,
        ), None

    def _retry_wait_s(self, error: ApiError, attempt: int) -> float:
        """The server's Retry-After if it sent one, else backoff with jitter."""
        if isinstance(error, RetriableApiError) and error.retry_after_s is not None:
            return error.retry_after_s
        return self._backoff.delay_s(attempt)

    async def _before_retry(
        self,
        endpoint: Endpoint,
        error: ApiError,
        wait_s: float,
        deadline_s: float | None,
        attempt: int,
    ) -> None:
        log.info(
            "zoom_retry",
            endpoint=endpoint.path,
            status=error.status,
            code=error.code,
            wait_s=round(wait_s, 3),
            attempt=attempt + 1,
        )
        if deadline_s is not None and self._clock() + wait_s > deadline_s:
            raise _TokenWouldLapse(wait_s)
        await self._sleep(wait_s)

    def _observe(self, endpoint: Endpoint, status: int, started: float) -> None:
        latency_s = time.perf_counter() - started
        self._observer.on_api_call(ApiCall(SERVICE, endpoint.category.value, status, latency_s))

    async def _acquire(self, endpoint: Endpoint) -> None:
        for key in limiter_keys(endpoint.category, self._plan):
            await self._limiter.acquire(key)


def _per_person_limit(outcome: T | ApiError) -> T | ApiError:
    """Zoom's 429 for one registrant's daily limit ("... for the registrant (...)") is not
    the account's rate limit: pausing the category for a day would stop every other call."""
    if isinstance(outcome, RateLimited) and "registrant" in str(outcome).lower():
        return RegistrantLimitReached(
            "Zoom accepts at most 3 registration requests per person and webinar a day; "
            "this person can be registered again after 00:00 UTC.",
            service=SERVICE,
            status=outcome.status,
            code=outcome.code,
        )
    return outcome


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _unreachable(exc: httpx.TransportError) -> RetriableApiError:
    return RetriableApiError(
        f"Could not reach Zoom ({type(exc).__name__}); retried with backoff. If this "
        "persists, check the network, the proxy settings and connectors.zoom.api_base_url.",
        service=SERVICE,
    )


def _malformed(endpoint: Endpoint, status: int) -> FatalApiError:
    return FatalApiError(
        f"Zoom answered {endpoint.path} with a body that is not a JSON object; check "
        "connectors.zoom.api_base_url.",
        service=SERVICE,
        status=status,
    )


def _previous(wanted: bool) -> dict[str, str]:
    """The query that asks for past occurrences too (``show_previous_occurrences``)."""
    return {"show_previous_occurrences": "true"} if wanted else {}
