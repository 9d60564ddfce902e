"""Browsing images: search with the Wesog `q` formula, page through cards, one image's details."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from htmx_flask import make_response as htmx_response

from .. import deletions, images
from ..accounts.permissions import role_required
from ..upstream import UpstreamProblem
from .common import int_arg, swap_error, wants_fragment
from .forms import DeleteForm, PastedIdsForm

bp = Blueprint("images", __name__)

MAX_PAGE = 10_000
POSITION = re.compile(r"\bat position (\d+)")
# Formulas offered as chips under a rejected one (the API reference's own examples).
EXAMPLES = ("t~beach", "d>2020-01-01", "id=100042", "ai=true", "t~car && d>2020-01-01", "n>=2")


def formula_help(search: images.Search) -> dict[str, Any]:
    """Where a rejected formula went wrong: the message and the 0-based position, if given."""
    if not search.formula_error:
        return {"error_position": None}
    found = POSITION.search(search.formula_error)
    position = int(found.group(1)) if found else None
    if position is not None and position > len(search.q):
        position = len(search.q)
    return {"error_position": position}


@bp.get("/images")
@role_required("viewer")
def image_list() -> ResponseReturnValue:
    """The image grid: search, page, select and delete."""
    search = images.run_search(request.args.get("q", "").strip(), int_arg("page", 1, 1, MAX_PAGE))
    on_page = [image.image_id for image in search.results.results] if search.results else []
    context = {
        "search": search, "per_page": images.PER_PAGE, "delete_form": DeleteForm(formdata=None),
        "examples": EXAMPLES, **formula_help(search),
        # A card remembers its latest deletion after a reload: in progress, or why it failed.
        "latest": deletions.latest_items(on_page),
    }  # fmt: skip
    if wants_fragment():
        body = render_template("_image_grid.html", oob_formula_error=True, **context)
    else:
        body = render_template("images.html", ids_form=PastedIdsForm(formdata=None), **context)
    # The address bar shows what is on screen, a rejected formula included.
    shown = url_for(
        "images.image_list", q=search.q or None, page=search.page if search.page > 1 else None
    )
    if search.status != 200:
        response = swap_error(body, search.status)
        return htmx_response(response, push_url=shown) if wants_fragment() else response
    response = htmx_response(body, push_url=shown) if wants_fragment() else body
    return response, 200, {"Vary": "HX-Request"}


@bp.get("/images/<image_id>")
@role_required("viewer")
def image_detail(image_id: str) -> ResponseReturnValue:
    """Every metadata field of one image, and the form to delete it."""
    image, error, status = None, None, 200
    try:
        image = images.get_image(image_id)
    except UpstreamProblem as exc:
        error, status = exc.message, exc.status
        if exc.problem.kind == "not_found":
            error = f"The Wesog API has no image with id {image_id!r}."
    return render_template(
        "image_detail.html", image=image, image_id=image_id, error=error,
        delete_form=DeleteForm(formdata=None),
    ), status  # fmt: skip
