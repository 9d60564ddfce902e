"""Slowing password guessing without letting anyone lock an account out.

Failed logins are rows in the database, so every process and host counts the same attempts
(no Redis needed: the database is already shared). An address is an IPv4 address, or an IPv6
/64 network (one host has a whole /64 to pick from). Within LOGIN_RATE_LIMIT's window
(e.g. "10 per minute"):

* an address that failed that many times (any usernames) is refused until the window passes;
* a username that failed that many times (from any addresses) is "under attack": attempts for
  it are refused from addresses with more than OWNER_TYPOS failures in the window, while an
  address with at most that many still gets its try — so the owner who mistyped twice still
  gets in with the right password, and a guesser gets at most three guesses per address.

Guesses against one username from many addresses are capped in time: once a username has
LOGIN_NAME_BUDGET failures within the hour, every further attempt for it waits before its
password is checked, one at a time per username in a process, and the wait doubles every
tenth of the budget (LOGIN_SLOWDOWN_BASE up to LOGIN_SLOWDOWN_MAX seconds). It is a delay,
never a refusal: the owner's right password from a clean address always gets in.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import parse
from sqlalchemy import delete, func, select

from ..config import settings
from ..extensions import db
from ..models import LoginFailure, utcnow

OWNER_TYPOS = 2  # failures an address may have and still try an attacked username
BUDGET_WINDOW = timedelta(hours=1)
# Attempts for one username are checked one at a time per process while it is slowed down;
# striped locks bound the memory whatever usernames are typed.
NAME_LOCKS = [threading.Lock() for _ in range(64)]


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused, and for how many seconds."""

    retry_after: int
    reason: str  # "address" | "username"


def username_digest(username: str) -> str:
    """The key a username is counted under: SHA-256 of its trimmed, lowercased form."""
    return hashlib.sha256(username.strip().lower()[:64].encode("utf-8")).hexdigest()


def address_key(address: str) -> str:
    """What failures are counted under: the IPv4 address, or the IPv6 address's /64."""
    try:
        found = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(found, ipaddress.IPv6Address):
        if found.ipv4_mapped is not None:
            return str(found.ipv4_mapped)
        return str(ipaddress.ip_network(f"{found}/64", strict=False))
    return str(found)


def _limit() -> tuple[int, timedelta]:
    """(attempts, window) from LOGIN_RATE_LIMIT, read per request so tests can change it."""
    item = parse(settings().login_rate_limit)
    return item.amount, timedelta(seconds=item.get_expiry())


def enabled() -> bool:
    """The throttle is on unless WESOG_LOGIN_THROTTLE is false (tests that log in a lot)."""
    return settings().login_throttle


def _failures(since: datetime, **match: str) -> tuple[int, datetime | None]:
    """How many failures match since `since`, and the oldest one's time."""
    query = select(func.count(), func.min(LoginFailure.at)).where(LoginFailure.at >= since)
    for column, value in match.items():
        query = query.where(getattr(LoginFailure, column) == value)
    count, oldest = db.session.execute(query).one()
    return int(count or 0), oldest


def refusal(username: str, address: str) -> Refusal | None:
    """Whether a login attempt for `username` from `address` must wait (None: let it try)."""
    if not enabled():
        return None
    amount, window = _limit()
    now = utcnow()
    since = now - window
    by_address, oldest = _failures(since, remote_addr=address_key(address))
    if by_address >= amount:
        return Refusal(_seconds_left(oldest, window, now), "address")
    by_user, oldest_user = _failures(since, username_sha256=username_digest(username))
    if by_user >= amount and by_address > OWNER_TYPOS:
        return Refusal(_seconds_left(oldest_user, window, now), "username")
    return None


def _seconds_left(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    """Seconds until the oldest counted failure leaves the window (at least 1)."""
    if oldest is None:
        return 1
    return max(1, int((oldest + window - now).total_seconds()) + 1)


def note_failure(username: str, address: str) -> None:
    """Count one failed attempt and forget the ones too old to matter (caller commits)."""
    now = utcnow()
    _, window = _limit()
    kept = max(2 * window, BUDGET_WINDOW)  # the hour's budget needs the hour's failures
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - kept))
    digest, key = username_digest(username), address_key(address)
    row = LoginFailure(username_sha256=digest, remote_addr=key, at=now)
    db.session.add(row)


def slowdown(username: str) -> float:
    """Seconds an attempt for `username` waits before its password is checked: 0 within the
    hour's budget, then LOGIN_SLOWDOWN_BASE doubling every tenth of the budget, capped."""
    if not enabled():
        return 0.0
    config = settings()
    budget = config.login_name_budget
    failed, _ = _failures(utcnow() - BUDGET_WINDOW, username_sha256=username_digest(username))
    if failed < budget:
        return 0.0
    doublings = min(30, (failed - budget) // max(1, budget // 10))
    base, most = config.login_slowdown_base, config.login_slowdown_max
    return min(most, base * 2**doublings)


@contextmanager
def paced(username: str) -> Iterator[float]:
    """Around checking a password: one attempt per username at a time in this process, after
    `slowdown` seconds (yielded). Hold it until the failure, if any, is committed."""
    lock = NAME_LOCKS[int(username_digest(username)[:8], 16) % len(NAME_LOCKS)]
    with lock:
        delay = slowdown(username)
        if delay > 0:
            db.session.rollback()  # nothing written yet: hold no transaction while waiting
            time.sleep(delay)
        yield delay
