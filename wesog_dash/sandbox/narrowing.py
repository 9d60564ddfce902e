"""Which images a formula can match at most, read from an id index instead of a pass over all.

A real API answers `id=a || id=b` and `(id>=41&&id<=940)` from an index. The sandbox looked at
every stored image instead: ~50 ms per search among 100,000 images, on the cores the console
under test shares with it, for the metadata read of every chunk of a bulk deletion. An
`IdHint` is a superset of what the formula matches: the formula itself still decides each
candidate, so an answer is the same with or without the index, only sooner.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter

from .records import ImageRecord, default_order

_ID_NUMBER = attrgetter("id_num")


@dataclass(frozen=True)
class Bounds:
    """An interval of numeric ids (`id>=41`, `id<940`, or both joined by `&&`)."""

    low: float = -math.inf
    low_inclusive: bool = True
    high: float = math.inf
    high_inclusive: bool = True

    @classmethod
    def of(cls, operator: str, number: float) -> Bounds:
        """The ids that `id <operator> number` admits (operator: <, <=, >, >=)."""
        if operator in ("<", "<="):
            return cls(high=number, high_inclusive=operator == "<=")
        return cls(low=number, low_inclusive=operator == ">=")

    def both(self, other: Bounds) -> Bounds:
        """The ids within both intervals."""
        low = max((self.low, not self.low_inclusive), (other.low, not other.low_inclusive))
        high = min((self.high, self.high_inclusive), (other.high, other.high_inclusive))
        return Bounds(low[0], not low[1], high[0], high[1])

    def slice_of(self, ordered: list[ImageRecord], numeric: int) -> slice:
        """The positions in `ordered` of its first `numeric` images (numeric ids, ascending)
        whose id lies within the interval."""
        low = bisect.bisect_left if self.low_inclusive else bisect.bisect_right
        high = bisect.bisect_right if self.high_inclusive else bisect.bisect_left
        start = low(ordered, self.low, hi=numeric, key=_ID_NUMBER)
        stop = high(ordered, self.high, hi=numeric, key=_ID_NUMBER)
        return slice(start, max(start, stop))


@dataclass(frozen=True)
class IdHint:
    """Ids a formula can match at most: these texts and numbers, and these intervals."""

    texts: frozenset[str] = frozenset()
    numbers: frozenset[float] = frozenset()
    ranges: tuple[Bounds, ...] = ()

    @property
    def size(self) -> float:
        """How many ids it names (an interval: unknown, so infinite)."""
        return math.inf if self.ranges else len(self.texts) + len(self.numbers)


def either(hints: Iterable[IdHint | None]) -> IdHint | None:
    """The hint of `a || b || …`: the union, unless a part could match anything."""
    known = list(hints)
    if any(hint is None for hint in known):
        return None
    parts = [hint for hint in known if hint is not None]
    return IdHint(
        frozenset().union(*(h.texts for h in parts)),
        frozenset().union(*(h.numbers for h in parts)),
        tuple(bounds for h in parts for bounds in h.ranges),
    )


def both(hints: Iterable[IdHint | None]) -> IdHint | None:
    """The hint of `a && b && …`: any one part bounds it; intervals are intersected."""
    known = [hint for hint in hints if hint is not None]
    if not known:
        return None
    single_ranges = [h for h in known if len(h.ranges) == 1 and not h.texts and not h.numbers]
    if len(single_ranges) > 1:
        merged = single_ranges[0].ranges[0]
        for hint in single_ranges[1:]:
            merged = merged.both(hint.ranges[0])
        merged_away = {id(hint) for hint in single_ranges}  # a list's `in` made this O(n²)
        known = [h for h in known if id(h) not in merged_away] + [IdHint(ranges=(merged,))]
    return min(known, key=lambda hint: (hint.size, len(hint.ranges)))


def candidates(
    hint: IdHint, by_id: Mapping[str, ImageRecord], ordered: list[ImageRecord]
) -> list[ImageRecord]:
    """The images `hint` allows, in default order, from the store's own dict and order.

    Nothing is built per search: a canonical numeric id is its own text, and the numeric ids
    come first in default order, ascending, so an interval is two bisections.
    """
    found: dict[str, ImageRecord] = {}
    for text in hint.texts:
        if text in by_id:
            found[text] = by_id[text]
    for number in hint.numbers:
        if math.isfinite(number) and number == int(number):
            record = by_id.get(str(int(number)))
            if record is not None and record.id_num == number:
                found[record.image_id] = record
    first_other = bisect.bisect_left(ordered, (1, 0, ""), key=default_order)  # first text id
    for bounds in hint.ranges:
        for record in ordered[bounds.slice_of(ordered, first_other)]:
            found[record.image_id] = record
    if hint.ranges:  # `id>=41` compares a non-numeric id as text: any of them may match
        found.update((record.image_id, record) for record in ordered[first_other:])
    return sorted(found.values(), key=default_order)
