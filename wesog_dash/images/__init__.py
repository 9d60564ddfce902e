"""Images in the tenant's index, read through the Wesog API: a page of search results and one
image. (Every id a search matches is resolved by `deletions.selections`, in the background.)

Owns no table. May import `upstream` and `wesog`; never `deletions`, the poller or views.
"""

from .browse import PER_PAGE, Search, get_image, run_search

__all__ = [
    "PER_PAGE",
    "Search",
    "get_image",
    "run_search",
]
