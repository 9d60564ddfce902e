"""Typed results of the Wesog API: images and search pages (operations: `operation`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from .errors import WesogBadResponse
from .operation import INT64_MAX

log = logging.getLogger(__name__)


IMAGE_FIELDS = (
    "image_id",
    "src",
    "url_img_watermark",
    "url_img_thumbnail",
    "title",
    "headline",
    "caption",
    "alt_text",
    "ai_generated",
    "model_release",
    "property_release",
    "nsfw",
    "status",
    "date",
    "location",
    "city",
    "country",
    "event",
    "author",
    "provider",
    "shot",
    "scene",
    "technique",
    "medium",
    "keywords",
    "categories",
    "collections",
    "height",
    "width",
    "n_faces",
)
# Computed by the API (wesog-api.md §4.1), never sent back.
COMPUTED_FIELDS = ("height", "width", "n_faces")
# The input fields of an image (§4.2): what a write, and so a restore, may send.
INPUT_FIELDS = tuple(f for f in IMAGE_FIELDS if f != "image_id" and f not in COMPUTED_FIELDS)


@dataclass(frozen=True)
class Image:
    """One image's metadata; `fields` holds every field the API returned."""

    image_id: str
    fields: dict[str, Any]

    @classmethod
    def from_json(cls, data: Any) -> Image:
        """Build from a response body."""
        if not isinstance(data, dict) or "image_id" not in data:
            raise WesogBadResponse("an image must be a JSON object with an image_id")
        return cls(image_id=str(data["image_id"]), fields=data)

    def get(self, name: str, default: Any = None) -> Any:
        """One metadata field."""
        return self.fields.get(name, default)

    @property
    def title(self) -> str | None:
        """The image's title, if any."""
        return self.fields.get("title")

    @property
    def thumbnail_url(self) -> str | None:
        """Where its thumbnail lives, if anywhere."""
        return self.fields.get("url_img_thumbnail")


def search_count(value: Any) -> int | None:
    """The hit count of a search answer: a whole number ≥ 0, or None when not given."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
        raise WesogBadResponse(f"a search count must be a whole number, not {str(value)[:40]!r}")
    return value


@dataclass(frozen=True)
class SearchPage:
    """One page of `GET /imgs` results."""

    results: tuple[Image, ...]
    count: int | None
    page: int
    limit: int
    facets: dict[str, Any]

    @property
    def has_next(self) -> bool:
        """Whether another page probably follows."""
        if self.count is None:
            return len(self.results) == self.limit
        return self.page * self.limit < self.count


def capped(results: list[Any], limit: int) -> list[Any]:
    """A search page's results, at most `limit` of them: a broken API answering 20,000 must
    not blow a page up. What is dropped is logged."""
    if len(results) <= limit:
        return results
    log.warning(
        "A search answered %d results for limit=%d; the rest are dropped", len(results), limit
    )
    return results[:limit]
