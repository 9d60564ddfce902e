"""The poller lease under contention: of many pollers asking at once, exactly one wins."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import update

from wesog_dash.extensions import db
from wesog_dash.models import Lease, utcnow
from wesog_dash.poller.lease import LEASE_NAME, LeaseKeeper

CONTENDERS = 8


def everyone_at_once(app: Flask, keepers: list[LeaseKeeper]) -> list[bool]:
    """Each keeper calls acquire() in its own thread and session, all released together."""
    start = threading.Barrier(len(keepers))
    won = [False] * len(keepers)

    def run(index: int) -> None:
        with app.app_context():
            start.wait()
            won[index] = keepers[index].acquire()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(keepers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return won


def test_one_of_many_pollers_takes_a_free_lease_then_one_takes_it_when_expired(
    app: Flask,
) -> None:
    keepers = [LeaseKeeper(f"poller-{n}", ttl=30) for n in range(CONTENDERS)]
    won = everyone_at_once(app, keepers)  # no row yet: they race to insert it
    assert won.count(True) == 1
    with app.app_context():
        lease = db.session.get(Lease, LEASE_NAME)
        assert lease is not None and lease.holder == keepers[won.index(True)].holder
        past = utcnow() - timedelta(seconds=1)
        db.session.execute(update(Lease).values(expires_at=past))
        db.session.commit()
    for keeper in keepers:
        keeper.until = None  # nobody trusts its own memory of the lease
    won = everyone_at_once(app, keepers)  # a row that expired: they race to update it
    assert won.count(True) == 1
    with app.app_context():
        lease = db.session.get(Lease, LEASE_NAME)
        assert lease is not None and lease.holder == keepers[won.index(True)].holder
        assert lease.expires_at > utcnow()
