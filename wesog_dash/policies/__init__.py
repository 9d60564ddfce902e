"""Retention policies: saved searches whose matches the poller deletes on a schedule.

A policy (name, search formula, every N minutes or a cron expression, the most images one run
may delete, a reason) is approved by someone other than its author after a dry run; each run
is then an ordinary deletion through the outbox (snapshots, outcomes, audit, approval above
the threshold), listed under the policy. Owns the `retention_policies` and `policy_runs`
tables. May import `deletions`, `audit`, `models`, `upstream` and `wesog`; never the poller
(which calls `run_due`) or views.
"""

from .rules import (
    PolicyError,
    PolicyRule,
    add_policy,
    all_policies,
    approve_policy,
    change_policy,
    find_policy,
    pause_policy,
    request_run,
    resume_policy,
)
from .runs import PREVIEW, dry_run, due_policies, run_due, run_slot

__all__ = [
    "PREVIEW",
    "PolicyError",
    "PolicyRule",
    "add_policy",
    "all_policies",
    "approve_policy",
    "change_policy",
    "dry_run",
    "due_policies",
    "find_policy",
    "pause_policy",
    "request_run",
    "resume_policy",
    "run_due",
    "run_slot",
]
