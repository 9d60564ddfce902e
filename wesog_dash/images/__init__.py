"""Images in the tenant's index, read through the Wesog API: a page of search results, one
image, and which of some ids exist (bulk confirmation). (Every id a search matches is resolved
by `deletions.selections`, in the background; `matching` resolves one at once for the API and
the CLI.)

Owns no table. May import `upstream` and `wesog`; never `deletions`, the poller or views.
"""

from .browse import PER_PAGE, Search, get_image, run_search
from .lookup import LOOKUP_LIMIT, Lookup, look_up
from .matching import Matches, TooManyMatches, matching_ids

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
    "run_search",
]
