"""The arithmetic behind the figures the benchmarks print, kept apart so a test can hold it.

- `median_ratio`: a request's cost over the floor's (`/healthz`), median over median.
- `loglog_slope`: how cost grows with size: the least-squares slope of log(cost) over
  log(size). 1.0 is linear; 2.0 doubles the cost per item when the size doubles.
- `wait_share`: the share of a total spent waiting (time-integrated waiters over
  time-integrated requests in flight, see bench/choices.py).
- `figure_line`: one `bench <name> <value>` line, with its target after two spaces.
"""

import math
import statistics
from collections.abc import Sequence


def median_ratio(values: Sequence[float], floor: Sequence[float]) -> float:
    """median(values) / median(floor)."""
    return statistics.median(values) / statistics.median(floor)


def loglog_slope(sizes: Sequence[float], costs: Sequence[float]) -> float:
    """Least-squares slope of log(cost) over log(size), over every point given (≥ 2)."""
    if len(sizes) != len(costs) or len(sizes) < 2:
        raise ValueError("need as many costs as sizes, and at least two of each")
    xs = [math.log(size) for size in sizes]
    ys = [math.log(cost) for cost in costs]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        raise ValueError("the sizes must differ")
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def wait_share(waited: float, total: float) -> float:
    """waited / total, 0 when nothing was measured."""
    return waited / total if total > 0 else 0.0


def figure_line(
    name: str, value: float | int | str | None, *, target: str = "", digits: int = 2
) -> str:
    """`bench name value` (the benchmarks' contract: exactly those three fields), floats
    with `digits` decimals; a target, when given, on a line of its own after it
    (`# target name …`), so a reader of `bench` lines never sees it."""
    if value is None:
        shown = "n/a"
    elif isinstance(value, float):
        shown = f"{value:.{digits}f}"
    else:
        shown = str(value)
    return f"bench {name} {shown}" + (f"\n# target {name} {target}" if target else "")
