"""Images in the tenant's index, read through the Wesog API: a page of search results, one
image, which of some ids exist (bulk confirmation), and every id a search formula matches
(for "delete every match").

Owns no table. May import `upstream` and `wesog`; never `deletions`, the poller or views.
"""

from .browse import PER_PAGE, Search, get_image, run_search
from .lookup import LOOKUP_LIMIT, Lookup, look_up
from .matching import Matches, TooManyMatches, matching_ids, query_delete_cap

__all__ = [
    "LOOKUP_LIMIT",
    "PER_PAGE",
    "Lookup",
    "Matches",
    "Search",
    "TooManyMatches",
    "get_image",
    "look_up",
    "matching_ids",
    "query_delete_cap",
    "run_search",
]
