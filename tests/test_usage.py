"""Token accounting: measured, interpolated, extrapolated, no data."""

from __future__ import annotations

from agent.items import Item, assistant, user
from agent.store import UsageRecord
from agent.usage import TokenEstimator, item_bytes, prefix_bytes


def history(n: int) -> list[Item]:
    return [user(f"question {i} " * 10) if i % 2 == 0 else assistant("x" * 100) for i in range(n)]


def test_no_data_is_bytes_over_four() -> None:
    items = history(4)
    est = TokenEstimator(items, [])
    assert est.tokens_at(0) == 0
    assert est.total() == prefix_bytes(items)[4] // 4


def test_measured_points_win_and_newest_wins() -> None:
    items = history(6)
    records = [
        UsageRecord(history_len=2, input_tokens=500),
        UsageRecord(history_len=4, input_tokens=900),
        UsageRecord(history_len=4, input_tokens=950),
    ]
    est = TokenEstimator(items, records)
    assert est.tokens_at(2) == 500
    assert est.tokens_at(4) == 950


def test_interpolates_between_measurements_by_bytes() -> None:
    items = history(4)
    p = prefix_bytes(items)
    records = [
        UsageRecord(history_len=1, input_tokens=100),
        UsageRecord(history_len=3, input_tokens=300),
    ]
    est = TokenEstimator(items, records)
    expected = 100 + 200 * (p[2] - p[1]) // (p[3] - p[1])
    assert est.tokens_at(2) == expected
    assert 100 < est.tokens_at(2) < 300


def test_extrapolates_after_the_last_measurement_at_its_rate() -> None:
    items = history(5)
    p = prefix_bytes(items)
    est = TokenEstimator(items, [UsageRecord(history_len=3, input_tokens=600)])
    rate = 600 / p[3]
    assert est.total() == 600 + round((p[5] - p[3]) * rate)


def test_only_a_later_measurement_scales_down() -> None:
    items = history(4)
    p = prefix_bytes(items)
    est = TokenEstimator(items, [UsageRecord(history_len=4, input_tokens=400)])
    assert est.tokens_at(2) == 400 * p[2] // p[4]


def test_measurements_beyond_the_history_are_ignored() -> None:
    items = history(2)
    est = TokenEstimator(items, [UsageRecord(history_len=10, input_tokens=9999)])
    assert est.total() == sum(item_bytes(i) for i in items) // 4
