"""Which of some image ids exist, with their title and thumbnail: the bulk confirmation shows
them before anything is sent. One `GET /imgs` with an `id=… || id=…` formula per call."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..upstream import UpstreamProblem, upstream_call, wesog_client
from ..wesog import Image

LOOKUP_LIMIT = 100  # ids looked up per confirmation; the rest are sent unchecked
# The `id` filter of the formula takes numbers (wesog-api.md §5.2): other ids are not checked.
FORMULA_SAFE = re.compile(r"[0-9]{1,19}")


@dataclass
class Lookup:
    """What the API said about the first ids: found images by id, and what was not checked."""

    checked: list[str] = field(default_factory=list)
    found: dict[str, Image] = field(default_factory=dict)
    unchecked: int = 0  # ids past LOOKUP_LIMIT, or not numeric (the id filter's format)
    error: str | None = None  # the lookup failed: nothing is known (sending still works)

    def exists(self, image_id: str) -> bool | None:
        """True/False when checked, None when not (or the lookup failed)."""
        if self.error or image_id not in self.checked:
            return None
        return image_id in self.found


def look_up(image_ids: list[str], limit: int = LOOKUP_LIMIT) -> Lookup:
    """Ask the API which of the first `limit` ids exist (one search call)."""
    first = image_ids[:limit]
    checkable = [i for i in first if FORMULA_SAFE.fullmatch(i)]
    result = Lookup(checked=checkable, unchecked=len(image_ids) - len(checkable))
    if not checkable:
        return result
    formula = " || ".join(f"id={image_id}" for image_id in checkable)
    try:
        with upstream_call("GET /imgs"):
            page = wesog_client().search_images(q=formula, page=1, limit=len(checkable))
    except UpstreamProblem as exc:
        result.error = f"Could not check which ids exist: {exc.message}"
        return result
    result.found = {image.image_id: image for image in page.results}
    return result
