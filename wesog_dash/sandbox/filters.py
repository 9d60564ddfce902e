"""The filters of the `q` formula: names, allowed operators and how each one matches a record."""

from __future__ import annotations

import operator as op
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from .records import ImageRecord, parse_date, words

Predicate = Callable[[ImageRecord], bool]
Builder = Callable[[str, str], tuple[Predicate, list[str]]]

# Spelling -> canonical operator, longest spellings first so that "~~~" wins over "~".
OPERATORS: dict[str, str] = {
    "~~~": "~~~",
    "===": "=",
    "~~": "~~",
    "==": "=",
    "<=": "<=",
    "=<": "<=",
    ">=": ">=",
    "=>": ">=",
    "~": "~",
    "=": "=",
    "<": "<",
    ">": ">",
    "≤": "<=",
    "≥": ">=",
    "∩": "∩",
    ":": "=",  # the doc's own example writes `status:active`
}
_SIMILAR = frozenset({"~", "~~", "~~~"})
_RANGE = frozenset({"=", "<", ">", "<=", ">="})
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": op.eq,
    "<": op.lt,
    ">": op.gt,
    "<=": op.le,
    ">=": op.ge,
}
_NOTHING: Predicate = lambda record: False  # noqa: E731 - a named constant reads better here


@dataclass(frozen=True)
class FilterSpec:
    """One filter: canonical operators it accepts and a builder of its predicate."""

    operators: frozenset[str]
    build: Builder


def _split_list(value: str) -> list[str]:
    items = [item.strip().casefold() for item in value.split(",")]
    items = [item for item in items if item]
    if not items:
        raise ValueError(f"Empty list value {value!r}")
    return items


class IdSet:
    """An id filter matching a set of ids, by set lookups (`id=a`, `id∩a,b`, `id=a || id=b`).

    A wanted id that reads as a number matches numeric image ids by value ("7.0" finds "7");
    every wanted id matches other image ids by exact text. A `||` of id filters is merged into
    one IdSet, so a search for 1,000 ids costs one pass over the images, not 1,000.
    """

    __slots__ = ("numbers", "texts")

    def __init__(self, wanted: list[str]) -> None:
        self.texts = frozenset(wanted)
        self.numbers = frozenset(n for n in map(_as_number, wanted) if n is not None)

    def __call__(self, r: ImageRecord) -> bool:
        if r.id_num is not None:
            # A non-numeric wanted text can never equal a canonical numeric id.
            return r.id_num in self.numbers
        return r.image_id in self.texts

    @classmethod
    def union(cls, sets: list[IdSet]) -> IdSet:
        """One IdSet matching what any of `sets` matches."""
        merged = cls([])
        merged.texts = frozenset().union(*(s.texts for s in sets))
        merged.numbers = frozenset().union(*(s.numbers for s in sets))
        return merged


def _build_id(operator: str, value: str) -> tuple[Predicate, list[str]]:
    # Compare numerically when both sides are numbers, else as strings (ids are strings).
    if operator in ("∩", "="):
        wanted = [item.strip() for item in value.split(",")] if operator == "∩" else [value]
        wanted = [item for item in wanted if item]
        if not wanted:
            raise ValueError(f"Empty list value {value!r}")
        return IdSet(wanted), []
    text, number, cmp = value, _as_number(value), _COMPARE[operator]
    if number is None:
        return lambda r: cmp(r.image_id, text), []
    return IdCompare(operator, text, number), []


class IdCompare:
    """An id compared with a number (`id>=41`): numeric ids by value, the others as text."""

    __slots__ = ("compare", "number", "operator", "text")

    def __init__(self, operator: str, text: str, number: float) -> None:
        self.operator, self.text, self.number = operator, text, number
        self.compare = _COMPARE[operator]

    def __call__(self, r: ImageRecord) -> bool:
        if r.id_num is not None:
            return self.compare(r.id_num, self.number)
        return self.compare(r.image_id, self.text)


def _as_number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _build_date(operator: str, value: str) -> tuple[Predicate, list[str]]:
    wanted = parse_date(value)
    if wanted is None:
        raise ValueError(f"Invalid date {value!r} (expected YEAR-MONTH-DAY)")
    cmp = _COMPARE[operator]
    return lambda r: r.date is not None and cmp(r.date, wanted), []


def _bool_builder(field: str) -> Builder:
    def build(operator: str, value: str) -> tuple[Predicate, list[str]]:
        lowered = value.lower()
        if lowered not in ("true", "false", "1", "0"):
            raise ValueError(f"Invalid boolean {value!r} (expected true or false)")
        wanted = lowered in ("true", "1")
        return lambda r: r.data.get(field) is wanted, []

    return build


def _number_builder(attribute: str) -> Builder:
    def build(operator: str, value: str) -> tuple[Predicate, list[str]]:
        items = value.split(",") if operator == "∩" else [value]
        numbers = [_as_number(item.strip()) for item in items]
        if any(number is None for number in numbers):
            raise ValueError(f"Invalid number {value!r}")
        cmp = op.eq if operator == "∩" else _COMPARE[operator]

        def predicate(r: ImageRecord) -> bool:
            actual = r.ratio if attribute == "ratio" else r.data.get(attribute)
            return actual is not None and any(cmp(actual, n) for n in numbers)

        return predicate, []

    return build


def _build_text(operator: str, value: str) -> tuple[Predicate, list[str]]:
    wanted = words(value)
    if not wanted:
        raise ValueError(f"Text value {value!r} has no words")
    return lambda r: wanted <= r.words, sorted(wanted)


def _set_builder(attribute: str) -> Builder:
    get = attrgetter(attribute)

    def build(operator: str, value: str) -> tuple[Predicate, list[str]]:
        if operator in _SIMILAR:
            needle = value.casefold()
            pred: Predicate = lambda r: any(needle in item for item in get(r))  # noqa: E731
            return pred, sorted(words(value))
        items = frozenset(_split_list(value))
        if operator == "=":
            return lambda r: items <= get(r), []
        return lambda r: not items.isdisjoint(get(r)), []

    return build


def _string_builder(field: str) -> Builder:
    def build(operator: str, value: str) -> tuple[Predicate, list[str]]:
        def folded(r: ImageRecord) -> str | None:
            actual = r.data.get(field)
            return actual.casefold() if isinstance(actual, str) else None

        if operator in _SIMILAR:
            needle = value.casefold()
            return lambda r: needle in (folded(r) or ""), sorted(words(value))
        items = _split_list(value) if operator == "∩" else [value.casefold()]
        return lambda r: folded(r) in items, []

    return build


def _build_image(operator: str, value: str) -> tuple[Predicate, list[str]]:
    if operator in _SIMILAR:
        return _NOTHING, []  # visual similarity needs the AI index
    return lambda r: r.image_id == value, []


def _build_person(operator: str, value: str) -> tuple[Predicate, list[str]]:
    return _NOTHING, []  # face recognition needs the AI index


def _spec(operators: set[str] | frozenset[str], build: Builder) -> FilterSpec:
    return FilterSpec(frozenset(operators), build)


_SET_OPS = {"=", "∩", *_SIMILAR}
_STRING_OPS = {"=", "∩", *_SIMILAR}
_NUMBER_OPS = {*_RANGE, "∩"}


def _aliases(spec: FilterSpec, *names: str) -> dict[str, FilterSpec]:
    return dict.fromkeys(names, spec)


FILTERS: dict[str, FilterSpec] = {
    **_aliases(_spec(_NUMBER_OPS, _build_id), "id"),
    **_aliases(_spec(_RANGE, _build_date), "d", "date"),
    **_aliases(_spec({"="}, _bool_builder("ai_generated")), "ai"),
    **_aliases(_spec({"="}, _bool_builder("nsfw")), "nsfw"),
    **_aliases(_spec(_SIMILAR, _build_text), "t", "txt", "text"),
    **_aliases(_spec(_SET_OPS, _set_builder("keywords")), "k", "key", "keywords"),
    **_aliases(_spec(_SET_OPS, _set_builder("categories")), "cat", "category", "categories"),
    **_aliases(_spec(_SET_OPS, _set_builder("collections")), "col", "collection", "collections"),
    **_aliases(_spec({"=", *_SIMILAR}, _build_image), "i", "img", "image"),
    **_aliases(_spec({"=", *_SIMILAR}, _build_person), "p", "person"),
    **_aliases(_spec(_NUMBER_OPS, _number_builder("ratio")), "r", "ratio"),
    **_aliases(_spec(_NUMBER_OPS, _number_builder("n_faces")), "n", "n_people"),
    **{
        name: _spec(_STRING_OPS, _string_builder(name))
        for name in (
            *("status", "city", "country", "location", "event", "author", "provider"),
            *("shot", "scene", "medium", "technique"),
        )
    },
}
