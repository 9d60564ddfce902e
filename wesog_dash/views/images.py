"""Browsing images: search with the Wesog `q` formula, page through cards, one image's details."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from .. import deletions, images
from ..accounts.permissions import role_required
from ..upstream import UpstreamProblem
from .common import int_arg, swap_error, wants_fragment

bp = Blueprint("images", __name__)

MAX_PAGE = 10_000


@bp.get("/images")
@role_required("viewer")
def image_list() -> ResponseReturnValue:
    """The image grid: search, page, select and delete."""
    search = images.run_search(request.args.get("q", "").strip(), int_arg("page", 1, 1, MAX_PAGE))
    shown = [image.image_id for image in search.results.results] if search.results else []
    # A card remembers its latest deletion after a reload: in progress, or why it failed.
    latest = deletions.latest_items(shown)
    if wants_fragment():
        body = render_template(
            "_image_grid.html", search=search, oob_formula_error=True, latest=latest
        )
    else:
        body = render_template("images.html", search=search, latest=latest)
    if search.status != 200:
        return swap_error(body, search.status)
    return body, 200, {"Vary": "HX-Request"}


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
    return render_template("image_detail.html", image=image, image_id=image_id, error=error), status
