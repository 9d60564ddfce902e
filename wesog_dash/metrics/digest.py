"""Timing digests: fixed half-octave buckets, and percentiles read back from their counts.

Bucket 0 holds [0, 1) ms, bucket k holds [2^((k-1)/2), 2^(k/2)) ms, the last one everything
from 2^24 ms (4.6 h) on. A percentile is the nearest-rank bucket's geometric midpoint, so it is
within 19 % of the exact value (2^(1/4) - 1), clamped to nothing finer than the data allow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..models.metrics import BUCKETS


def bucket_of(ms: float | None) -> int:
    """The bucket index of a duration in milliseconds (negative or missing: bucket 0)."""
    if ms is None or ms < 1 or math.isnan(ms):
        return 0
    # Smallest k with ms < 2^(k/2): floor(2 log2 ms) + 1, capped at the last bucket.
    return min(BUCKETS - 1, math.floor(2 * math.log2(ms)) + 1)


def lower_bound(index: int) -> float:
    """The smallest duration (ms) that falls in bucket `index`."""
    return 0.0 if index <= 0 else 2 ** ((index - 1) / 2)


def representative(index: int) -> float:
    """The value reported for bucket `index`: its geometric midpoint (0.5 ms for bucket 0)."""
    if index <= 0:
        return 0.5
    if index >= BUCKETS - 1:
        return lower_bound(index)
    return 2 ** ((index - 1) / 2 + 0.25)


def percentile(counts: Sequence[int], fraction: float) -> float | None:
    """The `fraction` (0..1) percentile by nearest rank over bucket `counts`; None if empty."""
    total = sum(counts)
    if total <= 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return representative(index)
    return representative(len(counts) - 1)  # unreachable: the counts add up to total
