"""Reading many images' metadata in few calls, in the best way this API was found to accept.

Ways, best first (see `capabilities.py`): an `∩` list (`id∩a,b,c`), an `||` chain of `id=`
filters (`id=a||id=b`, the composition wesog-api.md §5.2 documents), single `GET /imgs/{id}`.
In either formula a run of consecutive integer ids travels as one range, `(id>=41&&id<=940)`
(the `id` filter's documented `>=`/`<=`): ids uploaded in sequence cost a few characters.
The first read of the process probes with two ids; later reads use what worked, as many ids per
formula as the longest accepted formula allows. A fallback thus costs about ids ÷ (ids per
formula) calls; one call per id only when no formula works, or for an id no formula can carry.

A `ReadLimit` bounds the calls and the time of one read: ids not read within it are simply
absent from the answer, for the caller to decide.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from .capabilities import MODES, Capabilities
from .client import WesogClient
from .errors import (
    WesogBadResponse,
    WesogError,
    WesogNotFound,
    WesogRateLimited,
    WesogValidationError,
)
from .types import Image

SAFE_ID = re.compile(r"[A-Za-z0-9_.:-]+")  # ids that travel inside a formula unchanged
CANONICAL = re.compile(r"[1-9][0-9]{0,17}")  # ids a range can carry: integers, no leading 0
MIN_RANGE = 3
# Ids per search: its `limit` (two per id, see `_search`) stays within the API's 10,000.
MAX_PER_SEARCH = 5000
PROBE_IDS = 2  # ids of a probe formula: a one-id `∩` proves nothing about lists
REFUSED_STATUSES = (400, 413, 414, 422, 431)  # the API (or a proxy) refused the formula
MAX_REPROBES = 2  # within one read, at most this many probes after the API changed
MAX_ERRORS = 2  # failed formula searches (5xx, 429, time-outs) before one read gives up
# Per mode: the formula's text before the ids, between two ids, and the id filter's spelling.
SPELLING = {"list": ("id∩", ","), "or": ("", "||")}

# What one id's read gave: the Image, None (not found upstream) or why it could not be read.
Found = Image | None | str


@dataclass
class ReadLimit:
    """At most `calls` calls and `seconds` seconds for one read (None: no bound)."""

    calls: int | None = None
    seconds: float | None = None
    used: int = 0
    started: float = field(default_factory=time.monotonic)

    def allows(self) -> bool:
        """Whether one more call may start now."""
        if self.calls is not None and self.used >= self.calls:
            return False
        return self.seconds is None or time.monotonic() - self.started < self.seconds

    def spend(self) -> None:
        """Count one call."""
        self.used += 1


def runs(image_ids: list[str]) -> list[list[str]]:
    """The ids in order, consecutive canonical integers (`41`, `42`, `43`) in one run."""
    found: list[list[str]] = []
    for image_id in image_ids:
        last = found[-1][-1] if found else None
        if (
            last is not None
            and CANONICAL.fullmatch(image_id)
            and CANONICAL.fullmatch(last)
            and int(image_id) == int(last) + 1
        ):
            found[-1].append(image_id)
        else:
            found.append([image_id])
    return found


def is_range(run: list[str]) -> bool:
    """Whether a run travels as a range: from three ids on it is shorter than listing them."""
    return len(run) >= MIN_RANGE


def range_term(run: list[str]) -> str:
    """A run as one documented range filter."""
    return f"(id>={run[0]}&&id<={run[-1]})"


def formula(mode: str, image_ids: list[str]) -> str:
    """The `q` formula reading these ids in `mode`; runs of consecutive numbers as ranges."""
    head, glue = SPELLING[mode]
    grouped = runs(image_ids)
    terms = [range_term(run) for run in grouped if is_range(run)]
    singles = [image_id for run in grouped if not is_range(run) for image_id in run]
    if mode == "list" and singles:
        terms.append(head + glue.join(singles))
    else:
        terms.extend(f"id={image_id}" for image_id in singles)
    return "||".join(terms)


def cost(mode: str, run: list[str]) -> int:
    """Encoded characters a run adds to a formula of `mode` (with its separators)."""
    if is_range(run):
        return len(quote_plus(range_term(run) + "||"))
    if mode == "list":
        return sum(len(quote_plus(image_id + ",")) for image_id in run)
    return sum(len(quote_plus(f"id={image_id}||")) for image_id in run)


def pack(mode: str, image_ids: list[str], limit: int) -> Iterator[list[str]]:
    """The ids in groups whose encoded formula stays within `limit` characters, and whose
    answer stays within the API's page size."""
    head = len(quote_plus(SPELLING[mode][0] + "||"))
    group: list[str] = []
    size = head
    for whole in runs(image_ids):
        for start in range(0, len(whole), MAX_PER_SEARCH):
            run = whole[start : start + MAX_PER_SEARCH]
            added = cost(mode, run)
            if group and (size + added > limit or len(group) + len(run) > MAX_PER_SEARCH):
                yield group
                group, size = [], head
            group.extend(run)
            size += added
    if group:
        yield group


class Refused(Exception):
    """The API refused a formula (it may accept a shorter one, or another way)."""


class ManyImages:
    """One read of many ids, learning into (and from) the client's capabilities."""

    def __init__(self, client: WesogClient, limit: ReadLimit | None = None) -> None:
        self.client, self.limit = client, limit or ReadLimit()
        self.caps: Capabilities = client.capabilities
        self.found: dict[str, Found] = {}
        self.reprobes = 0
        self.trouble: str | None = None  # the API failed twice: the rest is not asked for
        self.errors = 0

    def read(self, image_ids: list[str]) -> dict[str, Found]:
        """Each id's Image, None or reason; ids the limit left unread are absent."""
        self._formulas([i for i in dict.fromkeys(image_ids) if SAFE_ID.fullmatch(i)])
        for image_id in [i for i in dict.fromkeys(image_ids) if i not in self.found]:
            if self.trouble is not None:
                self.found[image_id] = f"could not be read: {self.trouble}"
            elif not self.limit.allows():
                break
            else:
                self.found[image_id] = self._one(image_id)
        return self.found

    def _formulas(self, queue: list[str]) -> None:
        """Read what formulas can; what they leave is read alone (or not at all)."""
        while len(queue) >= PROBE_IDS and self.limit.allows() and self.trouble is None:
            mode = self.caps.ids.mode
            if mode is None:
                if self.reprobes >= MAX_REPROBES:
                    break
                self.reprobes += 1
                queue = self._probe(queue)
            elif mode == "single":
                break
            else:
                queue = self._next_group(mode, queue)

    def _probe(self, queue: list[str]) -> list[str]:
        """Find the first way that reads two ids at once (or settle on single reads)."""
        sample = queue[:PROBE_IDS]
        for mode in MODES[:-1]:
            self.caps.counted_probe()
            try:
                self._search(mode, sample)
            except Refused:
                continue
            except WesogError as exc:
                self.trouble = exc.message  # failed again right after an error: stop asking
                return queue
            return queue[PROBE_IDS:]
        self.caps.use("single")
        return queue

    def _next_group(self, mode: str, queue: list[str]) -> list[str]:
        """Read the next group of `mode`; an id too long for any formula goes to single reads."""
        group = next(pack(mode, queue, self.caps.ids.limit(mode)))
        if len(group) == 1:
            return queue[1:]  # too long to share a formula: read alone at the end
        try:
            self._search(mode, group)
        except Refused:
            return queue  # shorter formulas (or a new probe) next
        except WesogError as exc:
            self.errors += 1
            if self.errors >= MAX_ERRORS:
                self.trouble = exc.message  # the rest is not asked for
            return queue  # the next turn tries again (probing first, unless it was a 429)
        return queue[len(group) :]

    def _search(self, mode: str, group: list[str]) -> None:
        """One formula search; settles every id of `group` unless it raises."""
        q = formula(mode, group)
        chars = len(quote_plus(q))
        limit = 2 * len(group)  # numeric ids compare as numbers: "7" may also match "07"
        self.limit.spend()
        try:
            page = self.client.search_images(q=q, limit=limit)
        except (WesogValidationError, WesogBadResponse) as exc:
            if isinstance(exc, WesogValidationError) or exc.status in REFUSED_STATUSES:
                self.caps.refused(mode, chars)
                raise Refused from exc
            self.caps.failed()
            raise
        except WesogRateLimited:
            raise  # the API is busy, not changed: what was learned stands
        except WesogError:
            self.caps.failed()
            raise
        self.caps.worked(mode, chars)
        wanted = set(group)
        hits = {image.image_id: image for image in page.results if image.image_id in wanted}
        complete = len(page.results) < limit
        for image_id in group:
            if image_id in hits:
                self.found[image_id] = hits[image_id]
            elif complete:
                self.found[image_id] = None

    def _one(self, image_id: str) -> Found:
        self.limit.spend()
        try:
            return self.client.get_image(image_id)
        except WesogNotFound:
            return None
        except WesogValidationError as exc:
            return f"cannot be read: {exc.message}"
        except WesogError as exc:
            if not isinstance(exc, WesogRateLimited):
                self.caps.failed()
            return f"could not be read: {exc.message}"


def read_images(
    client: WesogClient, image_ids: list[str], limit: ReadLimit | None = None
) -> dict[str, Found]:
    """Each id's Image, None (not found) or the reason it could not be read; ids the limit
    left unread are absent. Never raises for upstream trouble."""
    return ManyImages(client, limit).read(image_ids)
