"""Latency histograms (sparse, 20 µs bins) and percentiles (pure)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

BIN_S = 20e-6
_PER_S = 1.0 / BIN_S


class Histogram:
    """Counts of latencies in fixed 20 µs bins, kept sparse (a dict bin -> count)."""

    __slots__ = ("bins", "count")

    def __init__(self) -> None:
        self.bins: dict[int, int] = {}
        self.count = 0

    def add(self, seconds: float) -> None:
        b = int(seconds * _PER_S) if seconds > 0 else 0
        bins = self.bins
        bins[b] = bins.get(b, 0) + 1
        self.count += 1

    def merge(self, bins: Mapping[int, int]) -> None:
        for b, c in bins.items():
            self.bins[b] = self.bins.get(b, 0) + c
            self.count += c

    def percentile(self, p: float) -> float:
        """The ``p``-th percentile in milliseconds (bin centre), NaN when empty."""
        if not self.count:
            return math.nan
        rank = max(1, math.ceil(self.count * p / 100.0))
        seen = 0
        for b in sorted(self.bins):
            seen += self.bins[b]
            if seen >= rank:
                return (b + 0.5) * BIN_S * 1000.0
        raise AssertionError("unreachable")

    def mean_ms(self) -> float:
        if not self.count:
            return math.nan
        return sum((b + 0.5) * c for b, c in self.bins.items()) * BIN_S * 1000.0 / self.count


def merged(parts: Iterable[Mapping[int, int]]) -> Histogram:
    """One histogram from many workers' bin dicts."""
    h = Histogram()
    for bins in parts:
        h.merge(bins)
    return h
