"""The one percentile (bot/tools/perf/stats.py): nearest rank."""

import math

import pytest

from bot.tools.perf.stats import percentile

# The worked example of the nearest-rank method (Wikipedia, "Percentile"): 5 values.
VALUES = [15, 20, 35, 40, 50]


@pytest.mark.parametrize("q, expected", [(0, 15), (5, 15), (30, 20), (40, 20), (50, 35), (99, 50), (100, 50)])
def test_nearest_rank_of_a_known_list(q, expected):
    assert percentile(VALUES, q) == expected


def test_order_does_not_matter_and_the_value_is_always_one_of_them():
    assert percentile([50, 15, 40, 20, 35], 50) == 35
    latencies = [0.012 * i for i in range(1, 201)]
    assert percentile(latencies, 99) == latencies[197]  # rank ceil(0.99 * 200) = 198
    assert percentile(latencies, 50) == latencies[99]


def test_a_rank_that_is_a_whole_number_is_not_pushed_up_by_float_error():
    values = list(range(1, 1001))
    assert 16.1 * 1000 / 100 > 161  # 161.00000000000003
    assert percentile(values, 16.1) == 161


def test_one_value_and_none():
    assert percentile([7.0], 1) == percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
