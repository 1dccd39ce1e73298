"""The arithmetic behind the benchmarks' figures (bench/figures.py); no timing here."""

import math

import pytest

from bench.figures import figure_line, loglog_slope, median_ratio, wait_share


def test_linear_growth_has_slope_one():
    assert loglog_slope([1e6, 2e6, 4e6], [3.0, 6.0, 12.0]) == pytest.approx(1.0)


def test_quadratic_growth_has_slope_two():
    assert loglog_slope([1, 2, 4], [5.0, 20.0, 80.0]) == pytest.approx(2.0)


def test_slope_is_least_squares_over_every_point():
    sizes, costs = [1, 2, 4], [1.0, 2.0, 8.0]  # log2 costs 0, 1, 3 over log2 sizes 0, 1, 2
    assert loglog_slope(sizes, costs) == pytest.approx(1.5)
    assert loglog_slope(sizes, costs) == pytest.approx(
        (math.log(8) - math.log(1)) / (math.log(4) - math.log(1))
    )


def test_fixed_cost_pulls_the_slope_under_one():
    assert loglog_slope([1, 2, 4], [2.0, 3.0, 5.0]) < 1.0


@pytest.mark.parametrize(("sizes", "costs"), [([1], [1.0]), ([1, 2], [1.0]), ([3, 3], [1.0, 2.0])])
def test_slope_needs_two_different_sizes(sizes, costs):
    with pytest.raises(ValueError):
        loglog_slope(sizes, costs)


def test_ratio_is_median_over_median():
    # One outlier moves a mean, not the median.
    assert median_ratio([2.0, 2.0, 100.0], [1.0, 1.0, 1.0, 50.0]) == pytest.approx(2.0 / 1.0)


def test_wait_share():
    assert wait_share(0.5, 10.0) == pytest.approx(0.05)
    assert wait_share(1.0, 0.0) == 0.0


def test_figure_lines():
    assert figure_line("engine_s", 9.6234) == "bench engine_s 9.62"
    assert figure_line("choices_not_ok", 0) == "bench choices_not_ok 0"
    assert figure_line("workers_speedup", None) == "bench workers_speedup n/a"
    with_target = figure_line("feed_lock_wait_share", 0.0314, target="< 0.10", digits=3)
    assert with_target == "bench feed_lock_wait_share 0.031\n# target feed_lock_wait_share < 0.10"
    # Every `bench` line is exactly `bench <name> <value>`, target or not.
    assert [line.split() for line in with_target.splitlines() if line.startswith("bench ")] == [
        ["bench", "feed_lock_wait_share", "0.031"]
    ]
