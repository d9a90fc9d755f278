"""Inline SVG charts: well-formed, values mapped to the right pixels, text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from zoom_brevo.admin import charts

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def points_of(root: ET.Element) -> list[tuple[float, float]]:
    line = root.find("svg:polyline", NS)
    assert line is not None
    return [tuple(map(float, p.split(","))) for p in line.attrib["points"].split()]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("max_value", "top", "step"),
    [(0, 1, 1), (1, 1, 1), (3, 3, 1), (7, 8, 2), (16, 20, 5), (31, 40, 10), (40, 40, 10),
     (100, 100, 25), (1234, 1500, 500)],
)  # fmt: skip
def test_nice_scale_gives_round_steps_covering_the_maximum(
    max_value: float, top: float, step: float
) -> None:
    assert charts.nice_scale(max_value) == (top, step)


def test_line_chart_maps_the_first_and_last_x_to_the_edges_and_values_to_heights() -> None:
    frame = charts.Frame(width=500, height=200, left=50, right=10, top=10, bottom=30)
    svg = charts.line_chart([(0, 0), (1, 20), (2, 40), (3, 10)], label="Present", frame=frame)
    pts = points_of(parse(svg))
    assert [x for x, _ in pts] == [50.0, 196.7, 343.3, 490.0]
    baseline, top = 170.0, 10.0  # axis 0..40
    assert pts[0][1] == baseline
    assert pts[2][1] == top
    assert pts[1][1] == pytest.approx((baseline + top) / 2)
    assert pts[3][1] == pytest.approx(baseline - (baseline - top) / 4)


def test_line_chart_has_a_gridline_label_per_step_and_markers_with_tooltips() -> None:
    svg = charts.line_chart(
        [(0, 10.0), (1, 55.5)], label="Score", y_max=100, point_labels=["Kick-off: 10", "Q2: 55.5"]
    )
    root = parse(svg)
    ticks = [t.text for t in root.iterfind("svg:text", NS)]
    assert ticks[:5] == ["0", "25", "50", "75", "100"]
    markers = root.findall("svg:circle", NS)
    assert [m.attrib["data-value"] for m in markers] == ["10", "55.5"]
    assert markers[1].find("svg:title", NS).text == "Q2: 55.5"  # type: ignore[union-attr]


def test_bar_chart_draws_one_bar_per_category_with_heights_proportional_to_counts() -> None:
    svg = charts.bar_chart([("0-5", 4), ("5-10", 0), ("10-15", 8)], label="Minutes")
    bars = parse(svg).findall("svg:rect", NS)
    assert [b.attrib["data-count"] for b in bars] == ["4", "0", "8"]
    heights = [float(b.attrib["height"]) for b in bars]
    assert heights[1] == 0
    assert heights[2] == pytest.approx(2 * heights[0])
    xs = [float(b.attrib["x"]) for b in bars]
    assert xs == sorted(xs)


def test_funnel_bars_are_proportional_to_the_first_stage_and_show_shares() -> None:
    svg = charts.funnel_chart([("Registered", 40), ("Attended", 30), ("Stayed", 10)], label="F")
    root = parse(svg)
    widths = [float(r.attrib["width"]) for r in root.findall("svg:rect", NS)]
    assert widths[1] / widths[0] == pytest.approx(0.75, abs=0.01)
    assert widths[2] / widths[0] == pytest.approx(0.25, abs=0.01)
    values = [t.text for t in root.iterfind("svg:text", NS) if t.attrib.get("class") == "value"]
    assert values == ["40 · 100%", "30 · 75%", "10 · 25%"]


def test_every_text_is_escaped() -> None:
    evil = '<script>alert("x")</script>'
    for svg in (
        charts.bar_chart([(evil, 1)], label=evil),
        charts.funnel_chart([(evil, 1)], label=evil),
        charts.line_chart([(0, 1), (1, 2)], label=evil, x_ticks=[(0, evil)], point_labels=[evil]),
        charts.empty_chart(evil),
    ):
        root = parse(svg)
        assert not any(el.tag.endswith("script") for el in root.iter())
        assert evil in root.attrib["aria-label"]


@pytest.mark.parametrize(
    "svg",
    [
        charts.line_chart([], label="Present"),
        charts.bar_chart([("a", 0)], label="Minutes"),
        charts.funnel_chart([("Attended", 0)], label="Funnel"),
    ],
)
def test_charts_without_data_say_so(svg: str) -> None:
    root = parse(svg)
    assert "empty" in root.attrib["class"]
    assert "no data" in "".join(root.itertext())


def test_edge_labels_of_a_line_chart_stay_inside_the_drawing() -> None:
    frame = charts.Frame(width=1100, height=280)
    svg = charts.line_chart(
        [(0, 50), (1, 60), (2, 70)], label="Score", frame=frame,
        x_ticks=[(0, "Nov 22 14:00"), (1, "Nov 29 14:00"), (2, "Dec 06 14:00")],
    )  # fmt: skip
    ticks = [t for t in parse(svg).iterfind("svg:text", NS) if t.text and ":" in t.text]
    anchors = [t.attrib["text-anchor"] for t in ticks]
    assert anchors == ["middle", "middle", "end"]  # 52 px from the left edge: room enough
    narrow = charts.Frame(width=300, height=200, left=10)
    svg = charts.line_chart([(0, 1), (1, 2)], label="x", frame=narrow,
                            x_ticks=[(0, "Dec 05 13:00"), (1, "Dec 06 14:00")])  # fmt: skip
    ticks = [t for t in parse(svg).iterfind("svg:text", NS) if t.text and ":" in t.text]
    assert [t.attrib["text-anchor"] for t in ticks] == ["start", "end"]


def test_an_empty_chart_is_drawn_at_page_scale() -> None:
    root = parse(charts.empty_chart("Funnel: no data"))
    assert "viewBox" not in root.attrib  # a scaled drawing shrinks its text
    assert root.attrib["width"] == "100%"
    assert root.find("svg:text", NS).text == "Funnel: no data"
