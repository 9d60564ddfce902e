"""Browsing images: search with the Wesog `q` formula, page through cards, one image's details."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from htmx_flask import make_response as htmx_response

from .. import deletions, images
from ..accounts.permissions import role_required
from ..inputs import whole_number
from ..models import DeletionItem, utcnow
from ..upstream import UpstreamProblem
from . import display
from .common import int_arg, no_store, nothing_changed, polled, wants_fragment
from .forms import DeleteForm, PastedIdsForm
from .idle import answers_idle

bp = Blueprint("images", __name__)

MAX_PAGE = 10_000
POSITION = re.compile(r"\s*\bat position ([0-9]+)")
# "The Wesog API rejected this: query.q: …": who said it and which field; the page says both.
LOCATION = re.compile(r"^.*?\b(?:query|body|path)\.[\w.]+:\s*|^The Wesog API rejected this:\s*")
# Formulas offered as chips under a rejected one (the API reference's own examples).
EXAMPLES = ("t~beach", "d>2020-01-01", "id=100042", "ai=true", "t~car && d>2020-01-01", "n>=2")


def formula_help(search: images.Search) -> dict[str, Any]:
    """A rejected formula's message in plain words (no "query.q:" prefix, no position: the
    caret shows it), the 0-based position and the character there, when known."""
    message = search.formula_error
    if not message:
        return {"error_position": None, "formula_message": None, "offending": None}
    position = search.error_position
    found = POSITION.search(message)
    if position is None and found:
        position = int(found.group(1))
    message = LOCATION.sub("", POSITION.sub("", message)).strip(" :;,") or "it does not parse"
    if position is not None:
        position = min(position, len(search.q))
    offending = search.q[position] if position is not None and position < len(search.q) else None
    if offending and (repr(offending) in message or f"“{offending}”" in message):
        offending = ""  # the message names it already: said once
    return {"error_position": position, "formula_message": message, "offending": offending}


@bp.get("/images")
@role_required("viewer")
def image_list() -> ResponseReturnValue:
    """The image grid: search, page, select and delete."""
    read_at = utcnow()  # deletions that end after this are shown on the cards, live
    search = images.run_search(request.args.get("q", "").strip(), int_arg("page", 1, 1, MAX_PAGE))
    on_page = [image.image_id for image in search.results.results] if search.results else []
    context = {
        "search": search,
        "per_page": images.PER_PAGE,
        "delete_form": DeleteForm(formdata=None),
        "examples": EXAMPLES,
        **formula_help(search),
        # A card remembers its deletion after a reload: in progress, or why it failed.
        "latest": deletions.card_items(on_page, read_at),
        "read_at_ms": int(read_at.timestamp() * 1000),
    }
    if wants_fragment():
        body = render_template("images/_image_grid.html", oob_formula_error=True, **context)
    else:
        body = render_template(
            "images/images.html", ids_form=PastedIdsForm(formdata=None), **context
        )
    # The address bar shows what is on screen, a rejected formula included.
    shown = url_for(
        "images.image_list", q=search.q or None, page=search.page if search.page > 1 else None
    )
    # A rejected formula (422) is swapped in place, like the grid; an upstream failure (502,
    # 503) is not, and app.js says its sentence in a toast (shared/base.html: responseHandling).
    if wants_fragment():
        return htmx_response(body, search.status, push_url=shown)
    return body, search.status


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
        "images/image_detail.html",
        image=image,
        image_id=image_id,
        error=error,
        delete_form=DeleteForm(formdata=None),
    ), status


MAX_CARDS = 100  # cards one watcher request may ask about (a page shows images.PER_PAGE)


# POST, not GET: 24 image ids of up to 256 characters would not fit a request line (4 KiB
# under gunicorn). It reads only; the CSRF token comes with it like with every htmx request.
@bp.post("/images/cards")
@answers_idle(lambda: not changed_cards())
@polled
@role_required("viewer")
def image_cards() -> ResponseReturnValue:
    """The grid's watcher, from the database only: each card it shows (slot `n`, image `id`,
    state digest `t`) whose deletion changed comes back out of band; 204 when none did."""
    changed = changed_cards()
    if not changed:
        return nothing_changed()
    return no_store(render_template("images/_card_slots.html", changed=changed))


def changed_cards() -> list[tuple[int, Any]]:
    """The posted cards whose state digest is no longer current: (slot, deletion item); read
    once per request (the idle answer and the view both ask)."""
    if "changed_cards" not in g:
        g.changed_cards = read_changed_cards()
    return g.changed_cards


def read_changed_cards() -> list[tuple[int, DeletionItem]]:
    """The posted cards whose state digest is no longer current, from the database."""
    read_at = read_at_arg()
    posted = zip(
        request.form.getlist("n"),
        request.form.getlist("id"),
        request.form.getlist("t"),
        strict=False,
    )
    slots = [
        (slot, image_id, token)
        for n, image_id, token in list(posted)[:MAX_CARDS]
        if (slot := whole_number(n, maximum=9999)) is not None
    ]
    if read_at is None or not slots:
        return []
    shown = deletions.card_items([image_id for _, image_id, _ in slots], read_at)
    changed = []
    for n, image_id, token in slots:
        item = shown.get(image_id)
        # A card goes from no deletion to one, or from one state to the next, never back; a
        # card polling its own deletion ("live:<id>") follows it itself, toast included.
        if item is None or token == f"live:{item.deletion_id}":
            continue
        if display.card_token(item.deletion, item) != token:
            changed.append((n, item))
    return changed


def read_at_arg() -> datetime | None:
    """When the grid's search results were read (`since`, ms since the epoch), or None."""
    millis = whole_number(request.form.get("since"), maximum=10**15)
    if millis is None:
        return None
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (ValueError, OverflowError, OSError):  # beyond the year 9999
        return None
