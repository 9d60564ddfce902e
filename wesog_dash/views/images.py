"""Browsing images: search with the Wesog `q` formula, page through cards, one image's details."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from ..permissions import role_required
from ..upstream import wesog_client
from ..wesog.errors import WesogError, WesogNotFound, WesogValidationError
from ..wesog.types import Image, SearchPage
from . import helpers
from .helpers import int_arg, is_htmx, swap_error, upstream_problem

bp = Blueprint("images", __name__)
bp.app_context_processor(helpers.template_helpers)

PER_PAGE = 24
MAX_PAGE = 10_000


@dataclass
class Search:
    """What the grid shows: a page of results, or why there is none."""

    q: str
    page: int
    results: SearchPage | None = None
    formula_error: str | None = None  # the API rejected the formula: shown next to it
    error: str | None = None  # anything else that went wrong upstream
    status: int = 200


def run_search(q: str, page: int) -> Search:
    """Ask the API for one page of images; upstream trouble becomes a message."""
    search = Search(q=q, page=page)
    try:
        search.results = wesog_client().search_images(q=q, page=page, limit=PER_PAGE)
    except WesogValidationError as exc:
        search.formula_error, search.status = upstream_problem(exc)
    except WesogError as exc:
        search.error, search.status = upstream_problem(exc)
    return search


@bp.get("/images")
@role_required("viewer")
def image_list() -> ResponseReturnValue:
    """The image grid: search, page, select and delete."""
    search = run_search(request.args.get("q", "").strip(), int_arg("page", 1, 1, MAX_PAGE))
    if is_htmx():
        body = render_template("_image_grid.html", search=search, oob_formula_error=True)
    else:
        body = render_template("images.html", search=search)
    if search.status != 200:
        return swap_error(body, search.status)
    return body, 200, {"Vary": "HX-Request"}


@bp.get("/images/<image_id>")
@role_required("viewer")
def image_detail(image_id: str) -> ResponseReturnValue:
    """Every metadata field of one image, and the form to delete it."""
    image: Image | None = None
    error, status = None, 200
    try:
        image = wesog_client().get_image(image_id)
    except WesogNotFound:
        error, status = f"The Wesog API has no image with id {image_id!r}.", 404
    except WesogError as exc:
        error, status = upstream_problem(exc)
    return render_template("image_detail.html", image=image, image_id=image_id, error=error), status
