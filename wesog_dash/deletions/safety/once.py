"""Doing an action on a deletion once per idempotency key: the first submission runs it, every
other one with the same key (in parallel, or again later) gets the first one's answer.

The key is claimed by inserting its row (a unique digest) in its own commit, before the action
runs: the database decides which submission is first. An action refused (ControlError, nothing
to retry or restore) is an answer too, and is given again; one the API could not carry out
(UpstreamProblem) leaves no answer, so the same key may try again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import IdempotencyKey, utcnow
from ..intake.outbox import DeletionInputError
from .control import ControlError
from .restore import RestoreError

Answer = dict[str, Any]
MAX_KEY = 255
WAIT_SECONDS = 60.0  # how long a repeat waits for the first submission's answer
KEEP_DAYS = 7
REFUSALS: dict[str, Callable[[Answer], Exception]] = {
    "ControlError": lambda a: ControlError(a["message"], a.get("reason") or "refused"),
    "DeletionInputError": lambda a: DeletionInputError(a["message"]),
    "RestoreError": lambda a: RestoreError(a["message"]),
}


class IdempotencyKeyError(ValueError):
    """An idempotency key that cannot be one (too long, not text); safe to show."""


def clean_key(raw: Any) -> str | None:
    """The client's key, or None when none was given; IdempotencyKeyError when it cannot be one."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > MAX_KEY or not raw.isprintable():
        raise IdempotencyKeyError(
            f"An idempotency key is printable text of at most {MAX_KEY} characters."
        )
    return raw


def once(key: str | None, scope: str, run: Callable[[], Answer]) -> Answer:
    """`run()`'s answer, run at most once for (`scope`, `key`); without a key, just run it."""
    if key is None:
        return run()
    digest = hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()
    db.session.commit()
    try:
        db.session.add(IdempotencyKey(digest=digest, created_at=utcnow()))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _replay(_answer_of(digest))
    try:
        answer = run()
    except tuple(_refusal_types()) as exc:
        _store(
            digest,
            {
                "refused": type(exc).__name__,
                "message": str(exc),
                "reason": getattr(exc, "reason", None),
            },
        )
        raise
    except BaseException:
        db.session.rollback()
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.digest == digest))
        db.session.commit()  # not done: the same key may try again
        raise
    _store(digest, answer)
    return answer


def _refusal_types() -> list[type[Exception]]:
    return [ControlError, DeletionInputError, RestoreError]


def _store(digest: str, answer: Answer) -> None:
    db.session.rollback()
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.digest == digest))
    if row is not None:
        row.answer = answer
    db.session.commit()


def _answer_of(digest: str) -> Answer:
    """The first submission's answer, waiting for it while it runs."""
    deadline = time.monotonic() + WAIT_SECONDS
    query = select(IdempotencyKey.id, IdempotencyKey.answer).where(IdempotencyKey.digest == digest)
    while True:
        found = db.session.execute(query).first()
        db.session.rollback()  # read afresh next time
        if found is None:
            raise ControlError("The first submission of this action failed; submit it again.")
        if found.answer is not None:
            return dict(found.answer)
        if time.monotonic() > deadline:
            raise ControlError("The same action is still running; look again in a moment.")
        time.sleep(0.05)


def _replay(answer: Answer) -> Answer:
    refused = answer.get("refused")
    if refused in REFUSALS:
        raise REFUSALS[refused](answer)
    return answer


def prune_keys(days: int = KEEP_DAYS) -> int:
    """Forget keys older than `days`; how many (commits)."""
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
