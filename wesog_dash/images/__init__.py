"""Images in the tenant's index, read through the Wesog API: a page of search results and one
image. (Every id a search matches is resolved by `deletions.selections`, in the background;
`matching` resolves one at once for the API and the CLI.)

Owns no table. May import `upstream` and `wesog`; never `deletions`, the poller or views.
"""

from .browse import PER_PAGE, Search, get_image, run_search
from .matching import Matches, TooManyMatches, matching_ids

__all__ = [
    "PER_PAGE",
    "Matches",
    "Search",
    "TooManyMatches",
    "get_image",
    "matching_ids",
    "run_search",
]
