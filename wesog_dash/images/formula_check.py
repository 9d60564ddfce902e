"""Mistakes in a search formula caught before it is sent: an operator that is not one of the
reference's (`d>>2020`, `t=~x`), and a date that cannot exist (`d>2020-13-01`). The API may
accept either silently and match nothing, which reads as "no such images"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# wesog-api.md §5.2: similarity, equality, range (with their aliases), and set intersection.
OPERATORS = {"~", "~~", "~~~", "=", "==", "===", "<", ">", "<=", "=<", "≤", ">=", "=>", "≥", "∩"}
DATE_FILTERS = {"d", "date"}
# A filter starts the formula or follows `&&`, `||` or `(`: its name, then its operator.
FILTER = re.compile(r"(?:^|&&|\|\||\()\s*([A-Za-z_]+)\s*([<>=~!≤≥∩]+)")
DAY = re.compile(r"\s*(\d{1,4})-(\d{1,2})-(\d{1,2})\b")


@dataclass(frozen=True)
class FormulaMistake:
    """What is wrong and the 0-based position of the first offending character."""

    message: str
    position: int


def check_formula(q: str) -> FormulaMistake | None:
    """The first mistake found in `q`, or None (most formulas: the API is the judge)."""
    for found in FILTER.finditer(q):
        name, operator = found.group(1), found.group(2)
        at = found.start(2)
        if operator not in OPERATORS:
            return bad_operator(name, operator, at)
        if name.lower() in DATE_FILTERS and (mistake := bad_day(q, found.end(2))):
            return mistake
    return None


def bad_operator(name: str, operator: str, at: int) -> FormulaMistake:
    """The operator run is not an operator: point at the first character past a valid one."""
    prefixes = (operator[:n] for n in range(len(operator), 0, -1))
    valid = next((prefix for prefix in prefixes if prefix in OPERATORS), "")
    offending = operator[len(valid)] if valid else operator[0]
    message = f"“{name}{operator}” has no such operator: “{offending}” is one too many"
    if not valid:
        message = f"“{operator}” is not an operator of “{name}”"
    return FormulaMistake(message, at + len(valid))


def bad_day(q: str, start: int) -> FormulaMistake | None:
    """A YEAR-MONTH-DAY value that is no day of the calendar (month 13, 31 April…)."""
    found = DAY.match(q, start)
    if not found:
        return None
    year, month, day = (int(part) for part in found.groups())
    try:
        date(year, month, day)
    except ValueError:
        if not 1 <= month <= 12:
            return FormulaMistake(f"there is no month {month} in a date", found.start(2))
        return FormulaMistake(f"{year}-{month:02d} has no day {day}", found.start(3))
    return None
