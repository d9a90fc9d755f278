"""One-response reports (Q&A, polls) are read as a stream of entries, never whole."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.zoom.scripted import UUID, Chunks, Zoom, report_body
from zoom_brevo.errors import FatalApiError, NotFound, RetriableApiError
from zoom_brevo.zoom.models import PollEntry, QAEntry


async def test_entries_arrive_while_the_body_is_still_being_received() -> None:
    body = Chunks(report_body(2_000))
    async with Zoom(body).client() as zoom:
        report = zoom.webinar_poll_report(UUID)
        entries = aiter(report)
        first = await anext(entries)
        sent_at_first = body.sent
        rest = [e async for e in entries]
    assert isinstance(first, PollEntry) and first.email == "person0@example.com"
    assert len(rest) == 1_999
    assert sent_at_first < len(body.parts) / 100  # neither the auth nor the client read ahead
    assert report.summary.uuid == UUID and report.summary.id == 9_100_200_300


async def test_the_summary_is_read_wherever_it_stands_in_the_body() -> None:
    async with Zoom(Chunks(report_body(3, summary_last=True))).client() as zoom:
        summary = await zoom.webinar_qa_report(UUID).read_summary()
    assert summary.uuid == UUID
    assert summary.start_time is not None and summary.start_time.isoformat().startswith("2026")


async def test_the_summary_is_not_known_before_the_entries_are_read() -> None:
    async with Zoom().client() as zoom:
        with pytest.raises(RuntimeError, match="before its summary"):
            _ = zoom.webinar_qa_report(UUID).summary


async def test_nested_values_are_built_whole_into_each_entry() -> None:
    qa = {
        "id": 1,
        "questions": [
            {
                "email": "Ann@Example.com",
                "question_details": [
                    {"question_id": "q1", "question": "A?", "question_status": "default"},
                    {"question_id": "q2", "question": "B?", "question_status": "deleted"},
                ],
            }
        ],
    }
    async with Zoom(Chunks(json.dumps(qa).encode(), size=5)).client() as zoom:
        [got] = [e async for e in zoom.webinar_qa_report(UUID)]
    assert isinstance(got, QAEntry)
    assert [(d.question_id, d.question_status) for d in got.question_details] == [
        ("q1", "default"),
        ("q2", "deleted"),
    ]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[1, 2]", "not a JSON object"),
        (b'{"questions": [{"email": "a@b.c"', "invalid JSON"),
        (b"<html>gateway</html>", "invalid JSON"),
    ],
)
async def test_a_body_that_is_not_a_report_is_a_fatal_error_naming_the_path(
    body: bytes, why: str
) -> None:
    async with Zoom(Chunks(body)).client() as zoom:
        with pytest.raises(FatalApiError, match=why) as caught:
            _ = [e async for e in zoom.webinar_poll_report(UUID)]
    assert "/report/webinars/{webinar_id}/polls" in str(caught.value)


async def test_an_entry_of_the_wrong_shape_is_a_fatal_error_not_a_traceback() -> None:
    body = json.dumps({"questions": [{"email": "a@b.c", "question_details": "many"}]})
    async with Zoom(Chunks(body.encode())).client() as zoom:
        with pytest.raises(FatalApiError, match="cannot read"):
            _ = [e async for e in zoom.webinar_poll_report(UUID)]


async def test_a_connection_lost_mid_body_is_retriable_and_a_new_read_starts_over() -> None:
    broken, whole = Chunks(report_body(500), cut=10), Chunks(report_body(500))
    async with Zoom(broken, whole).client() as zoom:
        report = zoom.webinar_poll_report(UUID)
        with pytest.raises(RetriableApiError, match="broke while reading"):
            _ = [e async for e in report]
        again = [e async for e in report]
    assert len(again) == 500 and again[0].email == "person0@example.com"


async def test_an_error_answer_is_mapped_before_any_entry() -> None:
    refused = httpx.Response(404, json={"code": 3001, "message": "Webinar does not exist."})
    zoom_fake = Zoom(refused)
    async with zoom_fake.client() as zoom:
        with pytest.raises(NotFound) as caught:
            _ = [e async for e in zoom.webinar_qa_report(UUID)]
    assert caught.value.code == 3001
    assert zoom_fake.api_calls == 1
