"""The report's timeline picture: readable bars however long the incident, labels inert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from ir.report.svg import timeline_svg

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def minutes(count: int, step: int = 1) -> list[dict[str, object]]:
    return [{"minute": (T0 + timedelta(minutes=i * step)).isoformat(), "events": 1 + i % 7} for i in range(count)]


class Counter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def drawn(svg: str) -> Counter:
    parsed = Counter()
    parsed.feed(svg)
    return parsed


def test_a_three_day_incident_is_drawn_in_wider_bins() -> None:
    per_minute = minutes(3 * 24 * 60)
    svg = timeline_svg(per_minute, [])
    assert drawn(svg).tags.count("rect") <= 360
    assert "events per 15 minutes" in svg
    busiest = max(sum(int(str(m["events"])) for m in per_minute[i : i + 15]) for i in range(0, len(per_minute), 15))
    assert f"(peak {busiest})" in svg
    assert ">11-20 03:00<" in svg and ">11-23 03:00<" in svg  # a span of days is labelled with dates


def test_a_short_incident_keeps_one_bar_per_minute_and_marks_each_tagged_event() -> None:
    event = {
        "ts": (T0 + timedelta(seconds=30)).isoformat(),
        "kind": "tool_call",
        "message": "</title><script>alert(1)</script>\x1b[2J",
        "tags": [{"tag": "secret_read", "why": "x"}],
    }
    svg = timeline_svg(minutes(5), [event])
    tags = drawn(svg).tags
    assert tags.count("rect") == 5 and "events per minute" in svg
    assert tags.count("circle") == 2  # the mark and its legend entry
    assert "script" not in tags and "&lt;script&gt;" in svg and "\x1b" not in svg and "\\x1b" in svg


def test_no_events_no_picture() -> None:
    assert timeline_svg([], []) == ""
