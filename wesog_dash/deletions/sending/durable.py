"""Writing what the dispatcher learnt through a database that went away for a moment.

Between a DELETE call and its commit, the API's answer exists only in this process. When the
database cannot be reached right then (restarted, failed over, a network blip), the answer is
written again — a fresh session each time, backing off — until it lands or the claim is about
to expire. So a chunk the API carried out is recorded, not put in doubt; and a failure before
the call hands the claim back, so a chunk the API never saw is never marked failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, OperationalError

from ...database import discard
from ...extensions import db
from ...models import DeletionRequest, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_PAUSE, LONGEST_PAUSE = 0.05, 1.0


class AnswerNotWritten(RuntimeError):
    """The API answered, and the database stayed unreachable until the claim ran out: the
    claim expires and the chunk is reconciled from the API's evidence."""


def lost_connection(exc: BaseException) -> bool:
    """True for a database that could not be reached (not for a bug in a statement)."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def persist(write: Callable[[], T], within: float) -> T:
    """Run `write` and commit; while the database is unreachable, again, for up to `within`
    seconds. Other errors, and the last connection error, propagate."""
    deadline, pause = time.monotonic() + within, FIRST_PAUSE
    while True:
        try:
            result = write()
            db.session.commit()
            return result
        except DBAPIError as exc:
            discard(db.session)
            left = deadline - time.monotonic()
            if not lost_connection(exc) or left <= 0:
                raise
            log.warning("database unreachable, writing again: %s", str(exc).splitlines()[0])
            time.sleep(min(pause, left))
            pause = min(LONGEST_PAUSE, pause * 2)


def write_answer(write: Callable[[], None], within: float) -> None:
    """Commit what a DELETE call answered, again while the database is unreachable;
    AnswerNotWritten when it stays so for `within` seconds."""
    try:
        persist(write, within)
    except DBAPIError as exc:
        if not lost_connection(exc):
            raise
        raise AnswerNotWritten(str(exc).splitlines()[0]) from exc


@contextmanager
def handing_back(deletion_id: int, sending: str, within: float) -> Iterator[None]:
    """Around sending a claimed request's chunks: when the database is lost outside a call
    (between chunks), hand the claim back once it answers again, then let the error go on."""
    try:
        yield
    except DBAPIError as exc:
        if lost_connection(exc):
            # The failed transaction must go first: a write in it raises PendingRollbackError,
            # which is no connection error, so persist would not retry it.
            discard(db.session)
            persist(lambda: release_claim(deletion_id, sending), within)
        raise


def release_claim(deletion_id: int, sending: str) -> None:
    """Hand a claim back (nothing was on its way): due again at once (caller commits)."""
    db.session.execute(
        update(DeletionRequest)
        .where(DeletionRequest.id == deletion_id, DeletionRequest.message == sending)
        .values(message=None, next_attempt_at=utcnow())
    )
