"""When a policy runs next: every N minutes keeps its rhythm, cron takes its next time, and
any number of missed slots collapse into the one run being made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wesog_dash.policies.schedule import ScheduleError, check, first_slot, next_slot

DUE = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_every_n_minutes_runs_at_the_next_slot_of_its_rhythm() -> None:
    assert next_slot(60, None, DUE, DUE + timedelta(seconds=5)) == DUE + timedelta(hours=1)
    missed = DUE + timedelta(hours=3, minutes=30)  # three slots went by unpolled
    assert next_slot(60, None, DUE, missed) == DUE + timedelta(hours=4)
    exactly = DUE + timedelta(hours=2)  # a slot that is due right now is the one being run
    assert next_slot(60, None, DUE, exactly) == DUE + timedelta(hours=3)


def test_a_cron_policy_runs_at_its_next_time_after_now() -> None:
    yesterday = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert next_slot(None, "0 3 * * *", yesterday, now) == datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
    assert first_slot(None, "*/15 * * * *", now) == now + timedelta(minutes=15)
    assert first_slot(30, None, now) == now


@pytest.mark.parametrize(
    ("every", "cron", "problem"),
    [
        (None, None, "either"),
        (5, "* * * * *", "either"),
        (0, None, "1 to"),
        (None, "every day", "five fields"),
        (None, "61 * * * *", "five fields"),
        (None, "0 3 * * * *", "five fields"),
    ],
)
def test_a_schedule_is_one_of_the_two_and_well_formed(
    every: int | None, cron: str | None, problem: str
) -> None:
    with pytest.raises(ScheduleError, match=problem):
        check(every, cron)


def test_a_cron_expression_is_kept_tidy() -> None:
    assert check(None, "  0  3 * *   1-5 ") == (None, "0 3 * * 1-5")
    assert check(15, "") == (15, None)
