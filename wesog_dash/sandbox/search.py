"""`GET /imgs`: parameter parsing, filtering, sorting, paging and facets over stored images."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import chain
from typing import Any

from werkzeug.datastructures import MultiDict

from .query import Query, QueryError, parse_query
from .records import IMAGE_FIELDS, LIST_FIELDS, ImageRecord
from .validation import QueryParams, error

SORT_FIELDS: tuple[str, ...] = (
    "",
    "image_id",
    "src",
    "url_img_watermark",
    "url_img_thumbnail",
    "height",
    "width",
    "aspect_ratio",
    "n_faces",
    "date",
    "title",
    "headline",
    "caption",
    "location",
    "city",
    "country",
    "event",
    "author",
    "provider",
    "shot",
    "scene",
    "medium",
    "technique",
    "similarity",
    "sim",
)
FACETS: tuple[str, ...] = (
    "ai_generated",
    "model_release",
    "property_release",
    "nsfw",
    "orientation",
    "status",
    "location",
    "city",
    "country",
    "event",
    "author",
    "provider",
    "shot",
    "scene",
    "medium",
    "technique",
    "keywords",
    "categories",
    "collections",
)
MAX_LIMIT = 10000


@dataclass
class SearchParams:
    """Validated parameters of one search."""

    query: Query
    page: int
    limit: int
    sort_by: str
    descending: bool
    count: bool
    fields: list[str]
    facets: list[str]


@dataclass
class SearchResult:
    """One page of hits plus the total count and facets over every hit."""

    page: list[ImageRecord]
    count: int
    facets: dict[str, dict[str, int]]


def parse_search_params(args: MultiDict[str, str], dialect: str = "sandbox") -> SearchParams:
    """Validate the query string of `GET /imgs`; raise ValidationFailed with every problem.

    In the reference dialect a comma list after `∩` is refused (see dialect.py).
    """
    params = QueryParams(args)
    page = params.integer("page", 1, 1, None) or 1
    limit = params.integer("limit", 50, 1, MAX_LIMIT) or 50
    sort_by = params.choice(("sort_by",), SORT_FIELDS, "")
    sort_by = "similarity" if sort_by == "sim" else sort_by
    default_order = "desc" if sort_by == "similarity" else "asc"
    order = params.choice(("order", "sort_order"), ("asc", "desc"), default_order)
    count = params.boolean("count", True)
    fields = params.choices("fields", IMAGE_FIELDS)
    facets = params.choices("facets", FACETS)
    query = parse_query("")
    try:
        query = parse_query(args.get("q", ""), comma_lists=dialect != "reference")
    except QueryError as exc:
        params.errors.append(error(["query", "q"], str(exc), "value_error", args.get("q")))
    params.check()
    return SearchParams(query, page, limit, sort_by, order == "desc", count, fields, facets)


def _sort_values(hits: list[ImageRecord], field: str, query: Query) -> list[Any]:
    """The sort key of every hit (None when the image has no value for `field`)."""
    if field == "similarity":
        return [query.score(record) for record in hits]
    if field == "aspect_ratio":
        return [record.ratio for record in hits]
    if field == "image_id":
        return [record.sort_key for record in hits]
    values = [record.data[field] for record in hits]
    if field == "url_img_thumbnail":
        # What the response will show (minus the host) for images using the sandbox thumbnail.
        values = [
            value if value is not None else f"thumbs/{record.image_id}.svg"
            for value, record in zip(values, hits, strict=True)
        ]
    return [value.casefold() if isinstance(value, str) else value for value in values]


def _sorted(hits: list[ImageRecord], params: SearchParams) -> list[ImageRecord]:
    """Sort stably on top of the default order; images without a value always go last."""
    field = params.sort_by
    if not field or (field == "similarity" and not params.query.has_similarity):
        return hits  # default order (image id ascending)
    values = _sort_values(hits, field, params.query)
    # Sorting indices allocates no tuples: ~4x faster than (key, record) pairs on 10k hits.
    present = [i for i, value in enumerate(values) if value is not None]
    # reverse=True keeps equal keys in their original (default) order: Python's sort is stable.
    present.sort(key=values.__getitem__, reverse=params.descending)
    missing = [i for i, value in enumerate(values) if value is None]
    return [hits[i] for i in present + missing]


def _facet(hits: list[ImageRecord], name: str) -> Counter[Any]:
    """Count hits per value of one facet (list fields: once per distinct value of an image)."""
    if name == "orientation":
        return Counter(record.orientation for record in hits)
    if name in LIST_FIELDS:
        return Counter(chain.from_iterable(record.text.distinct[name] for record in hits))
    return Counter([record.data[name] for record in hits])


def _facets(hits: list[ImageRecord], names: list[str]) -> dict[str, dict[str, int]]:
    """`{facet: {value: hits}}` over every hit, most frequent values first; nulls are skipped."""
    result: dict[str, dict[str, int]] = {}
    for name in dict.fromkeys(names):
        counter = _facet(hits, name)
        counter.pop(None, None)
        # JSON keys are strings: booleans become "true"/"false".
        items = [(_facet_key(value), hits_) for value, hits_ in counter.items()]
        result[name] = dict(sorted(items, key=lambda item: (-item[1], item[0])))
    return result


def _facet_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def run_search(records: list[ImageRecord], params: SearchParams) -> SearchResult:
    """Filter `records` (given in default order), sort, page and compute facets."""
    matches = params.query.matches
    hits = records if params.query.everything else [r for r in records if matches(r)]
    ordered = _sorted(hits, params)
    start = (params.page - 1) * params.limit
    return SearchResult(
        ordered[start : start + params.limit], len(hits), _facets(hits, params.facets)
    )
