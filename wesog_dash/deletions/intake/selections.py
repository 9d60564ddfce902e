"""Id selections: the exact ids of a big deletion, stored and hashed before anything is sent.

A search ("delete every match") is resolved in the background by the poller, paging
`GET /imgs` with `limit` 10,000 and writing each page as it comes, so that the confirmation
page can show progress; pasted or uploaded lists are stored at once. The deletion is then made
from the stored rows (INSERT … SELECT), never from ids carried back by the browser.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

from sqlalchemy import delete, insert, select

from ... import signals
from ...config import settings
from ...extensions import db
from ...models import IdSelection, IdSelectionItem, utcnow
from ...upstream import problem_of, wesog_client
from ...wesog import SearchPage, WesogClient, WesogError, WesogRateLimited, WesogUnavailable
from ..items import batches
from .outbox import DeletionInputError, id_problem

RESOLVE_PAGE = 10_000  # ids per GET /imgs call (the API's largest page)
PAGE_TRIES = 4  # a page that meets a pause or an outage is asked again, this many times in all
INSERT_BATCH = 5_000


def query_delete_cap() -> int:
    """The largest number of ids a deletion by search may hold (WESOG_QUERY_DELETE_MAX)."""
    return settings().query_delete_max


def get_selection(selection_id: int) -> IdSelection | None:
    """One selection by id."""
    return db.session.get(IdSelection, selection_id)


def preview(selection_id: int, limit: int) -> list[str]:
    """The first `limit` ids of a selection, in order."""
    query = (
        select(IdSelectionItem.image_id)
        .where(IdSelectionItem.selection_id == selection_id)
        .order_by(IdSelectionItem.position)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def start_query(q: str, *, actor: str) -> IdSelection:
    """Record a search to resolve in the background and wake the poller; commits."""
    selection = IdSelection(
        created_at=utcnow(),
        actor=actor,
        kind="query",
        query=q.strip(),
        state="resolving",
        resolved=0,
        pages=0,
    )
    db.session.add(selection)
    db.session.commit()
    signals.wake()
    return selection


def store_list(ids: list[str], *, actor: str) -> IdSelection:
    """Store checked ids (pasted or uploaded) as a ready selection with their hash; commits."""
    selection = IdSelection(
        created_at=utcnow(),
        actor=actor,
        kind="list",
        state="ready",
        resolved=len(ids),
        pages=0,
    )
    db.session.add(selection)
    db.session.flush()
    _insert(selection.id, 0, ids)
    selection.ids_sha256 = _digest(ids)
    selection.finished_at = utcnow()
    db.session.commit()
    return selection


def _digest(ids: list[str]) -> str:
    """The same SHA-256 as `outbox.ids_digest`: of the newline-joined ids."""
    digest = hashlib.sha256()
    for index, image_id in enumerate(ids):
        digest.update((("\n" if index else "") + image_id).encode("utf-8"))
    return digest.hexdigest()


def _insert(selection_id: int, start: int, ids: list[str]) -> None:
    for offset, batch in enumerate(batches(ids, INSERT_BATCH)):
        first = start + offset * INSERT_BATCH
        rows = [
            {"selection_id": selection_id, "position": first + n, "image_id": image_id}
            for n, image_id in enumerate(batch)
        ]
        db.session.execute(insert(IdSelectionItem.__table__), rows)  # Core executemany


def unresolved() -> list[int]:
    """Selections still waiting to be resolved, oldest first."""
    query = select(IdSelection.id).where(IdSelection.state == "resolving")
    return list(db.session.scalars(query.order_by(IdSelection.id)))


def resolve(selection_id: int) -> None:
    """Page through the search, storing ids as they come; the selection ends ready or failed."""
    selection = get_selection(selection_id)
    if selection is None or selection.state != "resolving":
        return
    q, cap = selection.query or "", query_delete_cap()
    db.session.execute(delete(IdSelectionItem).where(IdSelectionItem.selection_id == selection_id))
    selection.resolved = selection.pages = 0  # a restart begins again from the first page
    db.session.commit()
    digest, seen = hashlib.sha256(), set[str]()
    try:
        for page, count, ids in _pages(q):
            fresh = [image_id for image_id in ids if image_id not in seen]
            if (count or 0) > cap or len(seen) + len(fresh) > cap:
                return _fail(selection_id, _too_many(max(count or 0, len(seen) + len(fresh)), cap))
            _check(fresh)
            _insert(selection_id, len(seen), fresh)
            for image_id in fresh:
                digest.update((("\n" if seen else "") + image_id).encode("utf-8"))
                seen.add(image_id)
            _progress(selection_id, page, count, len(seen))
    except WesogError as exc:
        return _fail(selection_id, problem_of(exc, "GET /imgs (resolving a search)").message)
    except DeletionInputError as exc:
        return _fail(selection_id, f"The search could not be resolved: {exc.message}")
    _finish(selection_id, len(seen), digest.hexdigest())


def _pages(q: str) -> Iterator[tuple[int, int | None, list[str]]]:
    """(page number, hit count, ids) of each page of the search, until the last one."""
    client, page = wesog_client(), 1
    while True:
        found = _search(client, q, page)
        yield page, found.count, [image.image_id for image in found.results if image.image_id]
        if not found.results or not found.has_next:
            return
        page += 1


def _search(client: WesogClient, q: str, page: int) -> SearchPage:
    """One page of ids; a 429 or an outage is waited out a few times before giving up."""
    for attempt in range(PAGE_TRIES):
        try:
            return client.search_images(q=q, page=page, limit=RESOLVE_PAGE, fields=("image_id",))
        except (WesogRateLimited, WesogUnavailable) as exc:
            if attempt + 1 >= PAGE_TRIES:
                raise
            time.sleep(min(30.0, getattr(exc, "retry_after", None) or 2.0**attempt))
    raise AssertionError("unreachable")


def _check(ids: list[str]) -> None:
    for image_id in ids:
        problem = id_problem(image_id)
        if problem:
            raise DeletionInputError(f"image id {image_id[:40]!r} cannot be sent: {problem}")


def _too_many(total: int, cap: int) -> str:
    return (
        f"This search matches {total:,} images; a deletion by search takes at most {cap:,}. "
        "Narrow the formula and try again."
    )


def _progress(selection_id: int, page: int, count: int | None, resolved: int) -> None:
    selection = get_selection(selection_id)
    assert selection is not None
    selection.pages, selection.expected, selection.resolved = page, count, resolved
    db.session.commit()


def _fail(selection_id: int, message: str) -> None:
    db.session.rollback()
    selection = get_selection(selection_id)
    assert selection is not None
    selection.state, selection.message, selection.finished_at = "failed", message, utcnow()
    db.session.commit()


def _finish(selection_id: int, total: int, sha256: str) -> None:
    selection = get_selection(selection_id)
    assert selection is not None
    if total == 0:
        selection.state, selection.message = "failed", "No image matches this search any more."
    else:
        selection.state, selection.ids_sha256 = "ready", sha256
    selection.resolved, selection.finished_at = total, utcnow()
    db.session.commit()
