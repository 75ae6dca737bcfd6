"""The one percentile of the performance tools (load test, benchmarks, restarts under load)."""

import math
from typing import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q`-th percentile (0 <= q <= 100): the smallest value such that at least q % of the
    values are at or below it, i.e. the value at rank ceil(q / 100 * n) of the n values sorted (rank 1 for
    q = 0). Always one of the values, never interpolated; NaN when there are none.
    """
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = math.ceil(round(q * len(ordered) / 100, 9))  # rounded first: 16.1 % of 1000 is rank 161, not 162
    return ordered[min(len(ordered), max(1, rank)) - 1]
