"""Browsing images: one page of a search, and one image with every field."""

from __future__ import annotations

from dataclasses import dataclass

from ..upstream import UpstreamProblem, upstream_call, wesog_client
from ..wesog import Image, SearchPage
from .formula_check import check_formula

PER_PAGE = 24


@dataclass
class Search:
    """What the grid shows: a page of results, or why there is none."""

    q: str
    page: int
    results: SearchPage | None = None
    formula_error: str | None = None  # the formula is wrong (here or upstream): shown next to it
    error_position: int | None = None  # 0-based, when known: a caret points there
    error: str | None = None  # anything else that went wrong upstream
    status: int = 200


def run_search(q: str, page: int) -> Search:
    """Ask the API for one page of images; upstream trouble becomes a message."""
    search = Search(q=q, page=page)
    mistake = check_formula(q)
    if mistake is not None:  # caught before sending: the API might just match nothing
        search.formula_error, search.error_position = mistake.message, mistake.position
        search.status = 422
        return search
    try:
        with upstream_call("GET /imgs"):
            search.results = wesog_client().search_images(q=q, page=page, limit=PER_PAGE)
    except UpstreamProblem as exc:
        search.status = exc.status
        if exc.problem.kind == "rejected":
            search.formula_error = exc.message
        else:
            search.error = exc.message
    return search


def get_image(image_id: str) -> Image:
    """One image with every field; UpstreamProblem (kind `not_found`) when there is none."""
    with upstream_call("GET /imgs/{id}"):
        return wesog_client().get_image(image_id)
