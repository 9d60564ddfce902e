"""Saving, changing, approving, pausing and resuming retention policies (each audited).

A new or changed policy waits in `awaiting_approval` with its dry run until someone other
than its author approves that very version; every change of state is one conditional UPDATE,
so two people pressing at once cannot both win.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, update

from .. import audit, deletions
from ..deletions.intake.outbox import DeletionInputError, clean_reason
from ..extensions import db
from ..models import RetentionPolicy, utcnow
from .schedule import ScheduleError, check, first_slot

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_QUERY = 2000


class PolicyError(ValueError):
    """A change we refuse; `message` is safe to show, `reason` names it for scripts:
    invalid, not-found, taken, own-policy, not-awaiting, no-dry-run, not-paused, not-active."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.message, self.reason = message, reason


@dataclass(frozen=True)
class PolicyRule:
    """What a person types for a policy: checked by `checked()`."""

    name: str
    query: str
    every_minutes: int | None
    cron: str | None
    max_images: int
    reason: str

    def checked(self) -> PolicyRule:
        """The same rule, trimmed and validated (PolicyError says what is wrong)."""
        name, query = (self.name or "").strip(), (self.query or "").strip()
        if not NAME.fullmatch(name):
            raise PolicyError("A name is 1 to 64 letters, digits, dots, dashes or underscores")
        if not query or len(query) > MAX_QUERY:
            raise PolicyError(f"The search formula is 1 to {MAX_QUERY} characters")
        if not 1 <= self.max_images <= deletions.MAX_IDS:
            raise PolicyError(f"The most images one run may delete is 1 to {deletions.MAX_IDS}")
        try:
            every, cron = check(self.every_minutes, self.cron)
            reason = clean_reason(self.reason)
        except ScheduleError as exc:
            raise PolicyError(str(exc)) from exc
        except DeletionInputError as exc:
            raise PolicyError(exc.message) from exc
        return PolicyRule(name, query, every, cron, self.max_images, reason)


def find_policy(name_or_id: str | int) -> RetentionPolicy:
    """A policy by id or name (PolicyError not-found)."""
    if isinstance(name_or_id, int):
        found = db.session.get(RetentionPolicy, name_or_id)
    else:
        query = select(RetentionPolicy).where(RetentionPolicy.name == name_or_id)
        found = db.session.scalars(query).first()
    if found is None:
        raise PolicyError(f"There is no retention policy {name_or_id!r}.", "not-found")
    return found


def all_policies() -> list[RetentionPolicy]:
    """Every policy, by name."""
    return list(db.session.scalars(select(RetentionPolicy).order_by(RetentionPolicy.name)))


def _details(policy: RetentionPolicy) -> dict[str, object]:
    return {
        "name": policy.name,
        "query": policy.query,
        "every_minutes": policy.every_minutes,
        "cron": policy.cron,
        "max_images": policy.max_images,
        "version": policy.version,
    }


def add_policy(rule: PolicyRule, *, actor: str) -> RetentionPolicy:
    """Save a new policy, waiting for approval of its dry run (commits; no dry run yet)."""
    rule = rule.checked()
    if db.session.scalar(select(RetentionPolicy.id).where(RetentionPolicy.name == rule.name)):
        raise PolicyError(f"A policy named {rule.name!r} exists already.", "taken")
    now = utcnow()
    policy = RetentionPolicy(
        name=rule.name,
        query=rule.query,
        every_minutes=rule.every_minutes,
        cron=rule.cron,
        max_images=rule.max_images,
        reason=rule.reason,
        author=actor,
        created_at=now,
        updated_at=now,
        version=1,
        state="awaiting_approval",
    )
    db.session.add(policy)
    db.session.flush()
    audit.record("policy.created", actor=actor, reason=rule.reason, details=_details(policy))
    db.session.commit()
    return policy


def change_policy(policy_id: int, rule: PolicyRule, *, actor: str) -> RetentionPolicy:
    """Change a policy: a new version, which waits for a new dry run's approval (commits)."""
    rule = rule.checked()
    policy = find_policy(policy_id)
    if rule.name != policy.name:
        raise PolicyError("A policy keeps its name; make a new one instead.")
    policy.query, policy.every_minutes, policy.cron = rule.query, rule.every_minutes, rule.cron
    policy.max_images, policy.reason = rule.max_images, rule.reason
    policy.version += 1
    policy.author, policy.updated_at, policy.state = actor, utcnow(), "awaiting_approval"
    policy.approved_by = policy.approved_at = policy.approval_reason = None
    policy.dry_run_at = policy.dry_run_count = policy.dry_run_ids = None
    policy.dry_run_message, policy.next_run_at = None, None
    audit.record("policy.changed", actor=actor, reason=rule.reason, details=_details(policy))
    db.session.commit()
    return policy


def approve_policy(policy_id: int, version: int, *, actor: str, reason: str) -> RetentionPolicy:
    """Approve the dry run of this version of the policy: it becomes active (commits).

    Refused to its author, to a version that changed meanwhile, and without a dry run.
    """
    policy = find_policy(policy_id)
    if policy.author == actor:
        raise PolicyError("Someone other than the policy's author must approve it.", "own-policy")
    try:
        reason = clean_reason(reason)
    except DeletionInputError as exc:
        raise PolicyError(exc.message) from exc
    now = utcnow()
    moved = db.session.execute(
        update(RetentionPolicy)
        .where(
            RetentionPolicy.id == policy.id,
            RetentionPolicy.state == "awaiting_approval",
            RetentionPolicy.version == version,
            RetentionPolicy.author != actor,
            RetentionPolicy.dry_run_at.is_not(None),
            RetentionPolicy.dry_run_message.is_(None),
        )
        .values(
            state="active",
            approved_by=actor,
            approved_at=now,
            approval_reason=reason,
            next_run_at=first_slot(policy.every_minutes, policy.cron, now),
        )
    )
    if getattr(moved, "rowcount", 0) != 1:
        db.session.rollback()
        raise _why_not_approved(policy_id, version)
    db.session.expire_all()
    policy = find_policy(policy_id)
    audit.record("policy.approved", actor=actor, reason=reason, details=_details(policy))
    db.session.commit()
    return policy


def _why_not_approved(policy_id: int, version: int) -> PolicyError:
    policy = find_policy(policy_id)
    if policy.version != version:
        return PolicyError("The policy changed since you looked: review it again.", "not-awaiting")
    if policy.state != "awaiting_approval":
        return PolicyError(f"The policy is {policy.state}: nothing to approve.", "not-awaiting")
    return PolicyError("Its dry run has not succeeded: run it again first.", "no-dry-run")


def pause_policy(policy_id: int, *, actor: str) -> RetentionPolicy:
    """No more runs until resumed (commits); a run already made goes on."""
    return _move(policy_id, ("active", "awaiting_approval"), "paused", actor, "policy.paused")


def resume_policy(policy_id: int, *, actor: str) -> RetentionPolicy:
    """Active again from its next slot when it was approved, else back to awaiting approval."""
    policy = find_policy(policy_id)
    target = "active" if policy.approved_by else "awaiting_approval"
    return _move(policy_id, ("paused",), target, actor, "policy.resumed")


def request_run(policy_id: int, *, actor: str) -> RetentionPolicy:
    """Make an active policy due now: the poller runs it at its next cycle (commits)."""
    policy = find_policy(policy_id)
    moved = db.session.execute(
        update(RetentionPolicy)
        .where(RetentionPolicy.id == policy.id, RetentionPolicy.state == "active")
        .values(next_run_at=utcnow())
    )
    if getattr(moved, "rowcount", 0) != 1:
        db.session.rollback()
        raise PolicyError(
            f"Policy {policy.name!r} is {policy.state}: only an active one runs.", "not-active"
        )
    db.session.expire_all()
    policy = find_policy(policy_id)
    audit.record("policy.run_requested", actor=actor, details=_details(policy))
    db.session.commit()
    return policy


def _move(
    policy_id: int, states: tuple[str, ...], target: str, actor: str, action: str
) -> RetentionPolicy:
    policy = find_policy(policy_id)
    now = utcnow()
    values: dict[str, object] = {"state": target, "updated_at": now}
    if target == "active":  # slots missed while paused are not made up
        values["next_run_at"] = first_slot(policy.every_minutes, policy.cron, now)
    moved = db.session.execute(
        update(RetentionPolicy)
        .where(RetentionPolicy.id == policy.id, RetentionPolicy.state.in_(states))
        .values(**values)
    )
    if getattr(moved, "rowcount", 0) != 1:
        db.session.rollback()
        if target == "paused":
            message, reason = "only an active or waiting policy can be paused", "not-active"
        else:
            message, reason = "only a paused policy can be resumed", "not-paused"
        raise PolicyError(f"Policy {policy.name!r} is {policy.state}: {message}.", reason)
    db.session.expire_all()
    policy = find_policy(policy_id)
    audit.record(action, actor=actor, details=_details(policy))
    db.session.commit()
    return policy
