"""A wall clock stepped by an hour (forward or back) on a poller's host: no lease is taken
from a live holder, none is lost by its holder — the row's expiry uses the database's clock
on PostgreSQL, and when to renew is judged on a monotonic clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from wesog_dash.models import utcnow
from wesog_dash.poller.lease import LeaseKeeper

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HOUR = timedelta(hours=1)


def keeper(name: str, step: timedelta = timedelta(0)) -> LeaseKeeper:
    """A lease keeper whose host's wall clock is `step` off."""
    return LeaseKeeper(name, ttl=10.0, clock=lambda: utcnow() + step)


@pytest.mark.postgresql_only
@pytest.mark.parametrize("step", [HOUR, -HOUR])
def test_a_stepped_clock_takes_no_live_lease_and_loses_none(app: Flask, step: timedelta) -> None:
    with app.app_context():
        holder, other = keeper("host-a"), keeper("host-b", step)
        assert holder.acquire()
        assert not other.acquire()  # an hour ahead or behind, the live lease stays single
        assert holder.check()
        stepped = keeper("host-a", step)  # the holder's own clock steps
        stepped.generation, stepped.until = holder.generation, 0.0  # due for renewal now
        assert stepped.check()  # renewed, not lost
        assert not other.acquire()
        holder.release()
        assert other.acquire()  # released: taken at once, whatever its clock says


def test_when_to_renew_is_judged_on_a_monotonic_clock(app: Flask) -> None:
    with app.app_context():
        holder = LeaseKeeper("host-a", ttl=10.0, clock=lambda: utcnow() - HOUR)
        assert holder.acquire()
        assert holder.until is not None and holder.until > 0  # monotonic, not a wall time
        assert holder.acquire() and holder.check()
