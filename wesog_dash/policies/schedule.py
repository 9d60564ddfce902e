"""When a policy runs: every N minutes, or at the times of a cron expression (croniter).

A slot missed while nothing was polling is run once: the next slot is always the first one
after now, never the one after the missed slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from croniter import croniter

MAX_EVERY_MINUTES = 366 * 24 * 60  # a year


class ScheduleError(ValueError):
    """A schedule we refuse; the message is safe to show."""


def check(every_minutes: int | None, cron: str | None) -> tuple[int | None, str | None]:
    """Exactly one of `every_minutes` (1 minute to a year) and a 5-field cron expression."""
    cron = " ".join((cron or "").split()) or None
    if (every_minutes is None) == (cron is None):
        raise ScheduleError("Give either how often in minutes or a cron expression, not both")
    if cron is not None:
        if len(cron.split(" ")) != 5 or not croniter.is_valid(cron):
            raise ScheduleError(
                "The cron expression needs five fields: minute hour day month weekday "
                "(e.g. 0 3 * * * for every day at 03:00 UTC)"
            )
        return None, cron
    if not 1 <= int(every_minutes or 0) <= MAX_EVERY_MINUTES:
        raise ScheduleError(f"How often is 1 to {MAX_EVERY_MINUTES} minutes")
    return int(every_minutes or 0), None


def first_slot(every_minutes: int | None, cron: str | None, now: datetime) -> datetime:
    """When a policy approved (or resumed) now first runs: at once, or at its next cron time."""
    if cron:
        return next_cron(cron, now)
    return now


def next_cron(cron: str, after: datetime) -> datetime:
    """The first time of the cron expression strictly after `after` (UTC)."""
    found = croniter(cron, after).get_next(datetime)
    assert isinstance(found, datetime)
    return found


def next_slot(
    every_minutes: int | None, cron: str | None, due: datetime, now: datetime
) -> datetime:
    """The first slot after `now` of a schedule whose slot `due` is being run.

    With N minutes: due + k·N for the smallest k that lands after now, so that the slots keep
    their rhythm and all those missed meanwhile collapse into the run being made.
    """
    if cron:
        return next_cron(cron, max(due, now))
    step = timedelta(minutes=every_minutes or 1)
    missed = max(0, int((now - due) / step))
    return due + (missed + 1) * step
