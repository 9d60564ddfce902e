"""Fencing: a poller that lost its lease changes nothing and calls nothing upstream.

Inside a poller task the app context carries the lease's fencing token (holder, generation):

- every commit first flushes its writes, then reads the lease row *in the same transaction*
  and refuses to commit (`LeaseLost`) unless the row still names this holder and generation.
  On SQLite the flushed writes hold the database's write lock, so no takeover can slip in
  between the check and the commit; on PostgreSQL the row is read `FOR SHARE`, which makes a
  takeover wait for the commit.
- every upstream call first asks `LeaseKeeper.check()` (renewing the lease in long cycles),
  through the guard `upstream.wesog_client()` applies when one is set.

Web requests carry no token: they are not fenced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import g, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..models import Lease
from ..upstream import GUARD
from ..wesog import WesogUnavailable
from .lease import LeaseKeeper

TOKEN = "wesog_fence"


class LeaseLost(WesogUnavailable):
    """This poller no longer holds the lease: nothing was sent, nothing is written."""

    def __init__(self) -> None:
        super().__init__("this poller lost its lease to another one; it stopped")


@contextmanager
def fenced(keeper: LeaseKeeper) -> Iterator[None]:
    """Fence the commits and upstream calls of the current app context by `keeper`'s lease."""
    setattr(g, TOKEN, (keeper.name, keeper.holder, keeper.generation))
    setattr(g, GUARD, _guard(keeper))
    try:
        yield
    finally:
        g.pop(TOKEN, None)
        g.pop(GUARD, None)


def _guard(keeper: LeaseKeeper) -> Callable[[], None]:
    def guard() -> None:
        if not keeper.check():
            raise LeaseLost()

    return guard


@event.listens_for(Session, "before_commit")
def _check_fence(session: Session) -> None:
    """Refuse the commit of a fenced session whose lease moved on (writes flushed first)."""
    token: Any = g.get(TOKEN) if has_app_context() else None
    if token is None:
        return
    name, holder, generation = token
    session.flush()
    held = session.execute(
        select(Lease.name)
        .where(Lease.name == name, Lease.holder == holder, Lease.generation == generation)
        .with_for_update(read=True)
    ).first()
    if held is None:
        raise LeaseLost()
