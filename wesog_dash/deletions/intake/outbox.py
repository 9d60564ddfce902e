"""The outbox: a deletion request and its items are validated and committed before any call."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, literal, select

from ... import audit, signals
from ...config import settings
from ...extensions import db
from ...models import DeletionItem, DeletionRequest, IdSelection, IdSelectionItem, utcnow
from ...wesog import image_id_problem
from ..sending import dispatcher
from .awaiting import hold

MAX_IDS = 100_000
MAX_REASON = 2000
MAX_TICKET = 128
MAX_UNDO_SECONDS = 3600
SELECTION_KINDS = ("single", "list", "query")


class DeletionInputError(ValueError):
    """A deletion request we refuse before writing anything; `message` is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def clean_ids(image_ids: list[str]) -> list[str]:
    """The ids, checked one by one, duplicates removed keeping the first occurrence."""
    if isinstance(image_ids, str):
        image_ids = [image_ids]  # one id given as plain text, not its characters
    if not all(isinstance(image_id, str) for image_id in image_ids):
        raise DeletionInputError("Image ids must be text")
    ids = list(dict.fromkeys(image_ids))
    if not ids:
        raise DeletionInputError("Give at least one image id")
    if len(ids) > MAX_IDS:
        raise DeletionInputError(f"At most {MAX_IDS} images can be deleted in one request")
    for image_id in ids:
        problem = id_problem(image_id)
        if problem:
            raise DeletionInputError(f"Image id {str(image_id)[:40]!r}: {problem}")
    return ids


def _is_unicode(text: str) -> bool:
    """False for text that cannot be stored or sent, e.g. a lone surrogate from JSON "\\ud800"."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def id_problem(image_id: str) -> str | None:
    """Why `image_id` cannot be sent as one (None: it can)."""
    if not _is_unicode(image_id):
        return "an image id must be valid Unicode text"
    return image_id_problem(image_id)


def clean_reason(reason: str | None) -> str:
    """The trimmed reason; it is required and at most MAX_REASON characters."""
    text = (reason or "").strip()
    if not text:
        raise DeletionInputError("A reason is required")
    if not _is_unicode(text):
        raise DeletionInputError("The reason must be valid Unicode text")
    if len(text) > MAX_REASON:
        raise DeletionInputError(f"The reason is at most {MAX_REASON} characters")
    return text


def clean_ticket(ticket: str | None) -> str | None:
    """The trimmed ticket reference, or None."""
    text = (ticket or "").strip()
    if not _is_unicode(text):
        raise DeletionInputError("The ticket must be valid Unicode text")
    if len(text) > MAX_TICKET:
        raise DeletionInputError(f"The ticket is at most {MAX_TICKET} characters")
    return text or None


def ids_digest(ids: list[str]) -> str:
    """SHA-256 of the newline-joined ids: proves later which list was asked for."""
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Requester:
    """Who asks for a deletion: the audited name, their account (None: not a person's) and
    the address the request came from."""

    actor: str
    user_id: int | None = None
    remote_addr: str | None = None


@dataclass(frozen=True)
class DeletionOptions:
    """What is chosen when asking for a deletion, besides which images: why, the API's
    options, the undo window and failure threshold, and the request it retries."""

    reason: str
    ticket: str | None = None
    wait: bool = False
    urgent: bool = False
    strict: bool = False
    restorable_only: bool = False  # images whose metadata could not be kept are not deleted
    undo_seconds: float = 0.0  # > 0: `scheduled` that long first (the undo window)
    stop_ratio: float | None = None  # the failure threshold of this request (None: configured)
    stop_min_items: int | None = None
    retry_of_id: int | None = None

    def checked(self) -> DeletionOptions:
        """The options with reason and ticket trimmed; DeletionInputError on any out of range."""
        if not 0 <= self.undo_seconds <= MAX_UNDO_SECONDS:
            raise DeletionInputError(f"The undo window is 0 to {MAX_UNDO_SECONDS} seconds")
        if self.stop_ratio is not None and not 0 <= self.stop_ratio <= 1:
            raise DeletionInputError(
                "The failure threshold is a share between 0 and 1 (0 % to 100 %)"
            )
        if self.stop_min_items is not None and not 1 <= self.stop_min_items <= MAX_IDS:
            raise DeletionInputError(f"The minimum of finished images is 1 to {MAX_IDS}")
        return replace(self, reason=clean_reason(self.reason), ticket=clean_ticket(self.ticket))

    @classmethod
    def of(cls, deletion: DeletionRequest, reason: str, undo_seconds: float) -> DeletionOptions:
        """The options of `deletion` for its retry: same choices, this reason and undo window."""
        return cls(
            reason=reason,
            ticket=deletion.ticket,
            wait=deletion.do_wait,
            urgent=deletion.do_urgent,
            strict=deletion.do_strict,
            restorable_only=deletion.restorable_only,
            undo_seconds=undo_seconds,
            stop_ratio=deletion.stop_ratio,
            stop_min_items=deletion.stop_min_items,
            retry_of_id=deletion.id,
        )


def request_deletion(
    image_ids: list[str],
    options: DeletionOptions,
    who: Requester,
    *,
    kind: str = "single",
    query: str | None = None,
    send_inline: bool = True,
) -> DeletionRequest:
    """Validate, commit the request and its items, then send it (one id) or wake the dispatcher.

    `kind` is how the ids were picked (SELECTION_KINDS) and `query` the search they came from.
    `send_inline=False` leaves even a single id to the dispatcher (the CLI, when the API is
    the embedded sandbox of another process).
    """
    options = options.checked()
    ids = clean_ids(image_ids)
    if kind not in SELECTION_KINDS:
        raise DeletionInputError("Unknown kind of selection")
    query = (query or "").strip() or None
    deletion = _new_request(options, who, kind, len(ids), query=query, digest=ids_digest(ids))
    # One id without wait (nor undo window) is quick upstream: send it inside the web request.
    inline = send_inline and len(ids) == 1 and not options.wait and deletion.state == "pending"
    timeout = settings().sync_send_timeout
    _write(deletion, ids, claim_for=timeout if inline else None)
    if inline:
        return dispatcher.send_claimed(deletion.id, timeout=timeout, actor=who.actor)
    signals.wake()
    return deletion


def request_selected(
    selection_id: int, options: DeletionOptions, who: Requester
) -> DeletionRequest:
    """A request whose ids are a stored, hashed selection (copied by INSERT … SELECT)."""
    options = options.checked()
    selection = db.session.get(IdSelection, selection_id)
    if selection is None or selection.state != "ready" or not selection.resolved:
        raise DeletionInputError("This list of ids is not ready; review it again")
    kind = selection.kind if selection.kind in SELECTION_KINDS else "list"
    deletion = _new_request(
        options, who, kind, selection.resolved, query=selection.query, digest=selection.ids_sha256
    )
    _write(deletion, None, claim_for=None, selection_id=selection_id)
    signals.wake()
    return deletion


def _new_request(
    options: DeletionOptions,
    who: Requester,
    kind: str,
    count: int,
    *,
    query: str | None,
    digest: str | None,
) -> DeletionRequest:
    """The row of a new request (not yet added): its options, its ids' kind, search, count and
    hash, and the state it starts in."""
    send_at = utcnow() + timedelta(seconds=options.undo_seconds) if options.undo_seconds else None
    start = {
        "state": "scheduled" if send_at else "pending",
        "send_at": send_at,
        "next_attempt_at": send_at,
    }
    start = hold(start, count, kind, who.actor)  # a second person, when one is needed
    return DeletionRequest(
        created_at=utcnow(),
        user_id=who.user_id,
        actor=who.actor,
        remote_addr=who.remote_addr,
        reason=options.reason,
        ticket=options.ticket,
        do_wait=options.wait,
        do_urgent=options.urgent,
        do_strict=options.strict,
        restorable_only=options.restorable_only,
        stop_ratio=options.stop_ratio,
        stop_min_items=options.stop_min_items,
        retry_of_id=options.retry_of_id,
        selection_kind=kind,
        selection_query=query,
        item_count=count,
        ids_sha256=digest,
        attempts=0,
        **start,
    )


def _insert_items(deletion_id: int, ids: list[str] | None, selection_id: int | None) -> None:
    """The items, written set-based: from the selection's rows, or in batches of values."""
    if selection_id is not None:
        rows = select(
            literal(deletion_id),
            IdSelectionItem.position,
            IdSelectionItem.image_id,
            literal("pending"),
        ).where(IdSelectionItem.selection_id == selection_id)
        columns = ["deletion_id", "position", "image_id", "outcome"]
        db.session.execute(insert(DeletionItem).from_select(columns, rows))
        return
    ids = ids or []
    table = DeletionItem.__table__  # Core executemany: no ORM bookkeeping per row
    for start in range(0, len(ids), 5000):
        db.session.execute(
            insert(table),
            [
                {
                    "deletion_id": deletion_id,
                    "position": start + n,
                    "image_id": image_id,
                    "outcome": "pending",
                }
                for n, image_id in enumerate(ids[start : start + 5000])
            ],
        )


def _write(
    deletion: DeletionRequest,
    ids: list[str] | None,
    claim_for: float | None,
    selection_id: int | None = None,
) -> None:
    """Insert the request, its items and the audit event, and commit: the outbox entry."""
    if claim_for is not None:
        # Claimed in the same commit, so that no dispatcher can pick it up meanwhile.
        dispatcher.mark_sending(deletion, claim_for)
    db.session.add(deletion)
    db.session.flush()
    _insert_items(deletion.id, ids, selection_id)
    first = ids[0] if ids and len(ids) == 1 else None
    audit.record(
        "deletion.requested",
        actor=deletion.actor,
        deletion_id=deletion.id,
        reason=deletion.reason,
        image_id=first,
        remote_addr=deletion.remote_addr,
        details=_requested_details(deletion),
    )
    db.session.commit()


def _requested_details(deletion: DeletionRequest) -> dict[str, Any]:
    return {
        "count": deletion.item_count,
        "options": {
            "wait": deletion.do_wait,
            "urgent": deletion.do_urgent,
            "strict": deletion.do_strict,
        },
        "selection": {"kind": deletion.selection_kind, "query": deletion.selection_query},
        "ticket": deletion.ticket,
        "ids_sha256": deletion.ids_sha256,
        **_safety_details(deletion),
    }


def _safety_details(deletion: DeletionRequest) -> dict[str, Any]:
    """The safety options, only when asked for (undo window, threshold, retry link)."""
    found: dict[str, Any] = {}
    if deletion.send_at:
        found["send_at"] = deletion.send_at.isoformat()
    if deletion.stop_ratio is not None or deletion.stop_min_items is not None:
        found["stop"] = {"ratio": deletion.stop_ratio, "min_items": deletion.stop_min_items}
    if deletion.retry_of_id:
        found["retry_of"] = deletion.retry_of_id
    return found
