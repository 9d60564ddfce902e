"""Resolving a search formula to the full list of image ids it matches (bulk by query)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import settings
from ..upstream import upstream_call, wesog_client

PAGE_SIZE = 1000  # ids per GET /imgs call while resolving (the API allows up to 10,000)


class TooManyMatches(ValueError):
    """The formula matches more images than one deletion may hold; the message says so."""

    def __init__(self, total: int, cap: int) -> None:
        super().__init__(
            f"This search matches {total:,} images; a deletion by search takes at most {cap:,}. "
            "Narrow the formula and try again."
        )
        self.total, self.cap = total, cap


@dataclass(frozen=True)
class Matches:
    """Every image id a formula matched when it was resolved."""

    q: str
    ids: list[str]


def query_delete_cap() -> int:
    """The largest number of ids a deletion by search may hold (WESOG_QUERY_DELETE_MAX)."""
    return settings().query_delete_max


def matching_ids(q: str) -> Matches:
    """All ids matching `q`, paging through `GET /imgs`; TooManyMatches past the cap.

    The ids are resolved once, here, and shown on the confirmation page: what the user
    confirms is exactly what is sent, even if the index changes in between.
    """
    cap, client = query_delete_cap(), wesog_client()
    ids: list[str] = []
    page = 1
    while True:
        with upstream_call("GET /imgs"):
            found = client.search_images(q=q, page=page, limit=PAGE_SIZE, fields=("image_id",))
        if found.count is not None and found.count > cap:
            raise TooManyMatches(found.count, cap)
        ids.extend(image.image_id for image in found.results)
        if len(ids) > cap:
            raise TooManyMatches(len(ids), cap)
        if not found.results or not found.has_next:
            return Matches(q=q, ids=list(dict.fromkeys(ids)))
        page += 1
