"""UUIDs reach Zoom encoded as its docs require (reference zoom.md 2.0)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoom_brevo.zoom.paths import encode_segment, expand


@pytest.mark.parametrize(
    ("raw", "segment"),
    [
        ("85746065432", "85746065432"),
        (85746065432, "85746065432"),
        ("wPUYIy/pR2mPs5r9no2GmA==", "wPUYIy%2FpR2mPs5r9no2GmA%3D%3D"),
        ("aBc+dEf/gH==", "aBc%2BdEf%2FgH%3D%3D"),
        ("/abc//d==", "%252Fabc%252F%252Fd%253D%253D"),
        ("/startsWithSlash==", "%252FstartsWithSlash%253D%253D"),
        ("has//double==", "has%252F%252Fdouble%253D%253D"),
    ],
)
def test_uuid_is_encoded_once_or_twice_as_zoom_requires(raw: str | int, segment: str) -> None:
    assert encode_segment(raw) == segment


def test_empty_id_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        encode_segment("")


def test_expand_fills_the_template_with_encoded_segments() -> None:
    path = expand("/past_meetings/{meeting_id}/participants", meeting_id="/a//b=")
    assert path == "/past_meetings/%252Fa%252F%252Fb%253D/participants"


@given(st.text(alphabet="ABCdef0123456789+/=", min_size=1, max_size=30))
def test_decoding_as_zoom_does_gives_back_the_uuid(uuid: str) -> None:
    segment = encode_segment(uuid)
    assert "/" not in segment
    once = unquote(segment)
    assert (unquote(once) if "%" in once else once) == uuid
