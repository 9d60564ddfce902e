"""Keeping what we delete: each image's full metadata, read just before its chunk is sent and
stored as an `ImageSnapshot` (or marked "cannot be restored" with the reason).

Many ids are read with `id∩a,b,c` search formulas (wesog-api.md §5.2: the `id` filter takes
`∩`), as many ids per formula as fit in a URL that common servers accept: two calls for a chunk
of 1,000 six-digit ids, not ten. A formula the API refuses is halved down to `PAGE` ids; an id a
formula cannot carry, or one the search did not settle, is read with `GET /imgs/{id}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote_plus

from sqlalchemy import insert, select

from ..extensions import db
from ..models import ImageSnapshot, utcnow
from ..upstream import wesog_client
from ..wesog import Image, WesogClient, WesogError, WesogNotFound, WesogValidationError

PAGE = 100  # fewest ids per formula: a refused formula is halved down to this size
# Characters of the encoded formula: the request line stays under 8 KB, the most common limit
# of servers and proxies (nginx, Apache), whatever the ids' length.
FORMULA_CHARS = 6500
FORMULA_SAFE = re.compile(r"[A-Za-z0-9_.:-]+")  # ids that travel inside `id∩…` unchanged
GONE = "not found upstream: nothing to restore"


def read_metadata(image_ids: list[str]) -> dict[str, Image | str]:
    """Each id's Image, or the reason it could not be read (never raises for upstream trouble)."""
    client, found = wesog_client(), {}
    safe = [i for i in image_ids if FORMULA_SAFE.fullmatch(i)]
    for group in formulas(safe):
        found.update(_search(client, group))
    for image_id in image_ids:
        if image_id not in found:
            found[image_id] = _one(client, image_id)
    return found


def formulas(image_ids: list[str]) -> Iterator[list[str]]:
    """The ids in groups whose `id∩…` formula, URL-encoded, fits in FORMULA_CHARS."""
    group: list[str] = []
    size = 0
    for image_id in image_ids:
        cost = len(quote_plus(image_id)) + 3  # and its encoded comma
        if group and size + cost > FORMULA_CHARS:
            yield group
            group, size = [], 0
        group.append(image_id)
        size += cost
    if group:
        yield group


def _search(client: WesogClient, group: list[str]) -> dict[str, Image | str]:
    """One `id∩…` search; ids it settles for sure (found, or absent from a complete answer)."""
    limit = 2 * len(group)  # numeric ids compare as numbers: "7" may also match "07"
    try:
        page = client.search_images(q="id∩" + ",".join(group), limit=limit)
    except WesogError:
        if len(group) >= 2 * PAGE:  # maybe too long for this API: try each half
            half = len(group) // 2
            return {**_search(client, group[:half]), **_search(client, group[half:])}
        return {}  # the API does not take this formula, or failed: read one by one
    wanted = set(group)
    found: dict[str, Image | str] = {
        image.image_id: image for image in page.results if image.image_id in wanted
    }
    if len(page.results) < limit:
        found.update({image_id: GONE for image_id in group if image_id not in found})
    return found


def _one(client: WesogClient, image_id: str) -> Image | str:
    try:
        return client.get_image(image_id)
    except WesogNotFound:
        return GONE
    except WesogValidationError as exc:
        return f"cannot be read: {exc.message}"
    except WesogError as exc:
        return f"could not be read: {exc.message}"


def keep(deletion_id: int, image_ids: list[str]) -> None:
    """Store the snapshots of these ids that this deletion does not hold yet (commits)."""
    held = set(
        db.session.scalars(
            select(ImageSnapshot.image_id).where(
                ImageSnapshot.deletion_id == deletion_id, ImageSnapshot.image_id.in_(image_ids)
            )
        )
    )
    missing = [image_id for image_id in image_ids if image_id not in held]
    db.session.commit()  # no transaction stays open while we wait for the network
    if not missing:
        return
    read = read_metadata(missing)
    now = utcnow()
    rows = [
        {
            "deletion_id": deletion_id, "image_id": image_id, "taken_at": now,
            "data": dict(value.fields) if isinstance(value, Image) else None,
            "problem": None if isinstance(value, Image) else value,
        }
        for image_id, value in ((i, read[i]) for i in missing)
    ]  # fmt: skip
    # Core executemany: a chunk's thousand snapshots without the ORM's bookkeeping per row.
    db.session.execute(insert(ImageSnapshot.__table__), rows)
    db.session.commit()


def unrestorable(image_ids: list[str]) -> dict[str, str]:
    """For a confirmation page: the ids whose metadata cannot be read now, and why."""
    return {i: v for i, v in read_metadata(image_ids).items() if not isinstance(v, Image)}
