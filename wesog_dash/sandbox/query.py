"""Recursive-descent parser and evaluator for the `q` search formula of `GET /imgs` (§5.2).

Grammar (`&&` binds tighter than `||`; whitespace is allowed around every token)::

    formula := or_expr END
    or_expr := and_expr ("||" and_expr)*
    and_expr := primary ("&&" primary)*
    primary := "(" or_expr ")" | FILTER
    FILTER  := NAME OPERATOR VALUE     (VALUE runs up to the next "&&", "||", "(", ")" or end)

Parentheses are reserved for grouping: a value never contains one, so `id=((1` is an error.

AI similarity cannot be reproduced offline, so the `~` operators are approximated: text search
needs every word of the value as a word of title, headline, caption or keywords; `~` on other
string filters is a case-insensitive substring match; image (`i~`) and person (`p`) similarity
match nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .filters import FILTERS, OPERATORS, IdCompare, IdSet, Predicate
from .narrowing import Bounds, IdHint, both, either
from .records import ImageRecord

Part = tuple[Predicate, IdHint | None]  # a parsed (sub)formula and the ids it can match
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_DEPTH = 64  # deeper nesting would risk Python's recursion limit; no real formula needs it


class QueryError(ValueError):
    """A formula that does not parse; the message says what and where (0-based position)."""


@dataclass
class _Token:
    kind: str  # "(", ")", "&&", "||", "filter", "end"
    pos: int
    text: str
    predicate: Predicate | None = None
    terms: list[str] = field(default_factory=list)


@dataclass
class Query:
    """A compiled formula: a predicate plus the words of its similarity (`~`) filters."""

    matches: Callable[[ImageRecord], bool]
    similarity_terms: list[str]
    everything: bool = False  # the empty formula: no need to call `matches` at all
    ids: IdHint | None = None  # the ids it can match at most, when its id filters say

    @property
    def has_similarity(self) -> bool:
        """True when the formula contains a `~` filter, so `sort_by=similarity` applies."""
        return bool(self.similarity_terms)

    def score(self, record: ImageRecord) -> int:
        """Similarity score: query words found in the title weigh most, then headline, then rest."""
        text = record.text
        return sum(
            3 * (term in text.title_words)
            + 2 * (term in text.headline_words)
            + (term in text.words)
            for term in self.similarity_terms
        )


def parse_query(text: str, comma_lists: bool = True) -> Query:
    """Compile a `q` formula; an empty formula matches every image. Raises QueryError.

    Without `comma_lists`, a value after `∩` must be a single value (the reference dialect).
    """
    tokens = _tokenize(text, comma_lists)
    if tokens[0].kind == "end":
        return Query(lambda record: True, [], everything=True)
    parser = _Parser(tokens)
    predicate, ids = parser.parse()
    return Query(predicate, parser.terms, ids=ids)


def _tokenize(text: str, comma_lists: bool = True) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, i, char))
            i += 1
        elif text.startswith(("&&", "||"), i):
            tokens.append(_Token(text[i : i + 2], i, text[i : i + 2]))
            i += 2
        else:
            token, i = _read_filter(text, i, comma_lists)
            tokens.append(token)
    tokens.append(_Token("end", len(text), ""))
    return tokens


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _read_filter(text: str, start: int, comma_lists: bool = True) -> tuple[_Token, int]:
    """Read `NAME OPERATOR VALUE` starting at `start`; return the token and the next index."""
    match = _NAME_RE.match(text, start)
    if not match:
        raise QueryError(f"Unexpected character {text[start]!r} at position {start}")
    name = match.group()
    spec = FILTERS.get(name.lower())
    if spec is None:
        raise QueryError(f"Unknown filter {name!r} at position {start}")
    i = _skip_spaces(text, match.end())
    operator = next((op for op in OPERATORS if text.startswith(op, i)), None)
    if operator is None:
        if i >= len(text):
            raise QueryError(f"Unexpected end of formula: missing operator after {name!r}")
        raise QueryError(f"Expected an operator after {name!r} at position {i}")
    canonical = OPERATORS[operator]
    if canonical not in spec.operators:
        allowed = ", ".join(sorted(spec.operators))
        raise QueryError(
            f"Operator {operator!r} is not supported by filter {name!r} at position {i} "
            f"(allowed: {allowed})"
        )
    value_start = _skip_spaces(text, i + len(operator))
    value_end = min(
        (pos for pos in (text.find(s, value_start) for s in ("&&", "||", "(", ")")) if pos >= 0),
        default=len(text),
    )
    if text.startswith("(", value_end):
        raise QueryError(f"Unexpected token '(' at position {value_end}")  # not after a value
    value = text[value_start:value_end].strip()
    if not value:
        raise QueryError(f"Missing value for filter {name!r} at position {value_start}")
    if canonical == "∩" and "," in value and not comma_lists:
        raise QueryError(
            f"Invalid value {value[:40]!r} for filter {name!r} at position {value_start}"
        )
    try:
        predicate, terms = spec.build(canonical, value)
    except ValueError as exc:
        raise QueryError(f"{exc} at position {value_start}") from None
    return _Token("filter", start, text[start:value_end], predicate, terms), value_end


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.terms: list[str] = []

    def parse(self) -> Part:
        part = self._or_expr()
        token = self.tokens[self.index]
        if token.kind != "end":
            raise _unexpected(token)
        return part

    def _next(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def _or_expr(self) -> Part:
        parts = [self._and_expr()]
        while self.tokens[self.index].kind == "||":
            self._next()
            parts.append(self._and_expr())
        predicates = [predicate for predicate, _ids in parts]
        id_sets = [part for part in predicates if isinstance(part, IdSet)]
        if len(id_sets) > 1:  # `id=a || id=b || ...`: one set lookup instead of a chain
            predicates = [
                IdSet.union(id_sets),
                *(p for p in predicates if not isinstance(p, IdSet)),
            ]
        return _balanced(predicates, _either), either(ids for _predicate, ids in parts)

    def _and_expr(self) -> Part:
        parts = [self._primary()]
        while self.tokens[self.index].kind == "&&":
            self._next()
            parts.append(self._primary())
        predicates = [predicate for predicate, _ids in parts]
        return _balanced(predicates, _both), both(ids for _predicate, ids in parts)

    def _primary(self) -> Part:
        token = self._next()
        if token.kind == "filter":
            assert token.predicate is not None
            self.terms.extend(token.terms)
            return token.predicate, ids_of(token.predicate)
        if token.kind == "(":
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise QueryError(f"Formula nested too deeply at position {token.pos}")
            inner = self._or_expr()
            closing = self._next()
            if closing.kind == "end":
                raise QueryError(f"Missing ')' for '(' at position {token.pos}")
            if closing.kind != ")":
                raise _unexpected(closing)
            self.depth -= 1
            return inner
        raise _unexpected(token)


def ids_of(predicate: Predicate) -> IdHint | None:
    """The ids one filter can match at most (None: not an id filter, or not by number)."""
    if isinstance(predicate, IdSet):
        return IdHint(predicate.texts, predicate.numbers)
    if isinstance(predicate, IdCompare) and not math.isnan(predicate.number):
        return IdHint(ranges=(Bounds.of(predicate.operator, predicate.number),))
    return None


def _balanced(
    parts: list[Predicate], combine: Callable[[Predicate, Predicate], Predicate]
) -> Predicate:
    """Combine predicates pairwise into a balanced tree, keeping their left-to-right order.

    A left-leaning chain would nest one call per part: a formula of 1,000 `||` would exceed
    Python's recursion limit. The balanced tree nests only log2(parts) calls.
    """
    while len(parts) > 1:
        pairs = zip(parts[::2], parts[1::2], strict=False)
        combined = [combine(left, right) for left, right in pairs]
        parts = combined + parts[len(combined) * 2 :]
    return parts[0]


# Nested two-argument closures are much faster than all()/any() over a generator.
def _both(left: Predicate, right: Predicate) -> Predicate:
    return lambda record: left(record) and right(record)


def _either(left: Predicate, right: Predicate) -> Predicate:
    return lambda record: left(record) or right(record)


def _unexpected(token: _Token) -> QueryError:
    if token.kind == "end":
        return QueryError("Unexpected end of formula")
    return QueryError(f"Unexpected token {token.text!r} at position {token.pos}")
