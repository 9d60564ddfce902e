"""The poller lease under contention: of many pollers asking at once, exactly one wins."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from wesog_dash.config import Settings
from wesog_dash.extensions import db
from wesog_dash.models import Lease, utcnow
from wesog_dash.poller.lease import LEASE_NAME, LeaseKeeper

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

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


def test_transaction_limits_default_to_a_third_of_the_ttl_and_refuse_values_past_it(
    app: Flask,
) -> None:
    from wesog_dash.poller import Poller, end_frozen_transactions
    from wesog_dash.poller.lease import transaction_limits

    assert transaction_limits(Settings.of({}), 9.0) == (3.0, 3.0)
    config = Settings.of({"WESOG_POLLER_IDLE_TX_TIMEOUT": 2, "WESOG_POLLER_LOCK_TIMEOUT": 0.5})
    assert transaction_limits(config, 9.0) == (2.0, 0.5)
    for bad in (0, -1, 9, 30):
        with pytest.raises(ValueError, match="WESOG_POLLER_IDLE_TX_TIMEOUT must be more than 0"):
            transaction_limits(Settings.of({"WESOG_POLLER_IDLE_TX_TIMEOUT": bad}), 9.0)
    app.config.update(WESOG_LEASE_TTL=6.0, WESOG_POLLER_LOCK_TIMEOUT=6.0)
    with pytest.raises(ValueError, match="WESOG_POLLER_LOCK_TIMEOUT"):
        end_frozen_transactions(app)  # what `wesog poll` reports as a usage error
    poller = Poller(app, lease_ttl=6.0)  # a poller thread warns and takes a third of the TTL
    assert poller.lease.lock_timeout == 2.0
    poller.close()
