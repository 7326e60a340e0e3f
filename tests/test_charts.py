"""iiniit_auth.charts: the day-bar geometry shared by the expiry timeline and the usage charts."""

from datetime import date, timedelta

from iiniit_auth.charts import AXIS, HEIGHT, LABEL_EVERY, WIDTH, day_bars

START = date(2026, 3, 1)


def days(*counts):
    return [(START + timedelta(days=n), count) for n, count in enumerate(counts)]


def test_bars_share_the_width_and_stand_on_the_axis_as_tall_as_their_count():
    bars = day_bars(days(0, 2, 4, 1), lambda day, count: f"{count} on {day}")

    assert [bar.x for bar in bars] == [1, 151, 301, 451]
    assert {bar.width for bar in bars} == {WIDTH / 4 - 2}
    assert [bar.height for bar in bars] == [0, 49, 98, 24.5]  # the tallest fills the room
    assert {round(bar.y + bar.height, 2) for bar in bars} == {HEIGHT - AXIS}
    assert bars[2].title == "4 on 2026-03-03"
    assert bars[3].right == 599


def test_labels_count_from_the_oldest_or_from_the_newest():
    counts = [1] * (LABEL_EVERY + 3)
    oldest = day_bars(days(*counts), lambda day, count: "")
    newest = day_bars(days(*counts), lambda day, count: "", label_newest=True)

    assert [n for n, bar in enumerate(oldest) if bar.label] == [0, LABEL_EVERY]
    assert [n for n, bar in enumerate(newest) if bar.label] == [2, LABEL_EVERY + 2]
    assert newest[-1].label == "Mar 10"


def test_a_bar_links_where_it_is_told_and_no_counts_draw_no_bars():
    (bar,) = day_bars(days(3), lambda day, count: "", url=lambda day: f"?expires={day}")
    assert bar.url == "?expires=2026-03-01"
    assert day_bars([], lambda day, count: "") == []
    assert [bar.height for bar in day_bars(days(0, 0), lambda day, count: "")] == [0, 0]
