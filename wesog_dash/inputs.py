"""Reading what people type into URLs and forms: whole numbers and days, ASCII only.

`str.isdigit`, `str.isdecimal`, `int()` and `date.fromisoformat` all take more than they
seem to: `'²'.isdigit()` is true yet `int('²')` raises, `int('٣')` is 3, `int(' 7 ')` and
`int('1_000')` are numbers, and `date.fromisoformat('20260101')` is a day. Every place that
turns typed text into a number or a day goes through here, so each accepts the same thing.
Imports nothing of the project: any layer may use it.
"""

from __future__ import annotations

import re
from datetime import date

DIGITS = re.compile(r"[0-9]{1,19}")
SIGNED_DIGITS = re.compile(r"-?[0-9]{1,19}")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def whole_number(
    raw: str | None, *, minimum: int = 0, maximum: int = 2**63 - 1, signed: bool = False
) -> int | None:
    """`raw` as an int when it is ASCII digits (a leading `-` when `signed`) within
    [minimum, maximum]; None for anything else (empty, spaces, '²', '٣', '1_0', '+1')."""
    if raw is None or not (SIGNED_DIGITS if signed else DIGITS).fullmatch(raw):
        return None
    value = int(raw)
    return value if minimum <= value <= maximum else None


def iso_day(raw: str | None) -> date | None:
    """`raw` as a day when it is written YYYY-MM-DD and exists; None otherwise."""
    if raw is None or not DAY.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None
