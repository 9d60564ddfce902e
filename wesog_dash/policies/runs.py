"""Running retention policies: the dry run (count and first 100), and the scheduled runs that
the poller makes as ordinary deletions (snapshots, outcomes, audit, approval alike).

A run is claimed before anything is asked upstream: one conditional UPDATE moves the policy's
`next_run_at` from the slot that was read to the next one, so of two pollers (or two threads)
only one wins a slot, and a policy whose last deletion is still going waits for it to end.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from .. import audit, deletions
from ..extensions import db
from ..models import FINAL_DELETION_STATES, DeletionRequest, PolicyRun, RetentionPolicy, utcnow
from ..upstream import problem_of, wesog_client
from ..wesog import WesogError
from .rules import find_policy
from .schedule import next_slot

log = logging.getLogger(__name__)
PREVIEW = 100  # ids a dry run shows
SEARCH_PAGE = 10_000  # ids per GET /imgs call while collecting a run's ids
DUE_PER_CYCLE = 20  # policies looked at per poller cycle


def _search(query: str, limit: int) -> tuple[int | None, list[str]]:
    """(hit count, up to `limit` matching ids) of a formula, paging `GET /imgs`."""
    client, page, count = wesog_client(), 1, None
    ids: list[str] = []
    while len(ids) < limit:
        size = min(SEARCH_PAGE, limit - len(ids)) if page == 1 else SEARCH_PAGE
        found = client.search_images(q=query, page=page, limit=size, fields=("image_id",))
        count = found.count if page == 1 else count
        ids += [image.image_id for image in found.results if image.image_id]
        if not found.results or not found.has_next or size != SEARCH_PAGE:
            break
        page += 1
    return count, list(dict.fromkeys(ids))[:limit]


def dry_run(policy_id: int, *, actor: str) -> PolicyRun:
    """Ask the API what the policy would delete now: the count and the first 100 (commits).

    For a policy waiting for approval, this is the dry run the approver sees.
    """
    policy = find_policy(policy_id)
    query, version = policy.query, policy.version
    db.session.commit()  # no transaction stays open while the API answers
    run = PolicyRun(
        policy_id=policy_id,
        policy_version=version,
        kind="dry_run",
        started_at=utcnow(),
        outcome="dry_run",
    )
    try:
        count, ids = _search(query, PREVIEW)
    except WesogError as exc:
        run.outcome, run.message = "failed", problem_of(exc, "a policy's dry run").message
        count, ids = None, []
    run.matched, run.first_ids = count if count is not None else len(ids), ids
    run.taken = min(run.matched or 0, policy.max_images)
    db.session.add(run)
    if policy.state == "awaiting_approval" and policy.version == version:  # not changed since
        policy.dry_run_at, policy.dry_run_count = run.started_at, run.matched
        policy.dry_run_ids, policy.dry_run_message = ids, run.message
    audit.record(
        "policy.dry_run",
        actor=actor,
        outcome=run.outcome,
        details={
            "name": policy.name,
            "version": version,
            "matched": run.matched,
            "would_delete": run.taken,
            "message": run.message,
        },
    )
    db.session.commit()
    return run


def due_policies(now: datetime | None = None) -> list[int]:
    """Active policies whose next slot has come, oldest slot first."""
    query = (
        select(RetentionPolicy.id)
        .where(RetentionPolicy.state == "active", RetentionPolicy.next_run_at <= (now or utcnow()))
        .order_by(RetentionPolicy.next_run_at)
        .limit(DUE_PER_CYCLE)
    )
    return list(db.session.scalars(query))


def run_due() -> int:
    """Run each due policy once (the poller's helper thread); how many runs were made."""
    made = 0
    for policy_id in due_policies():
        made += run_slot(policy_id) is not None
    return made


def still_going(policy_id: int) -> bool:
    """True while the deletion of the policy's latest run has not ended."""
    query = (
        select(DeletionRequest.state)
        .join(PolicyRun, PolicyRun.deletion_id == DeletionRequest.id)
        .where(PolicyRun.policy_id == policy_id)
        .order_by(PolicyRun.id.desc())
        .limit(1)
    )
    state = db.session.scalar(query)
    return state is not None and state not in FINAL_DELETION_STATES


def claim(policy: RetentionPolicy, now: datetime) -> PolicyRun | None:
    """Take the policy's due slot (conditional UPDATE) and record the run; None: lost it."""
    due = policy.next_run_at
    assert due is not None
    following = next_slot(policy.every_minutes, policy.cron, due, now)
    moved = db.session.execute(
        update(RetentionPolicy)
        .where(
            RetentionPolicy.id == policy.id,
            RetentionPolicy.state == "active",
            RetentionPolicy.next_run_at == due,
            RetentionPolicy.version == policy.version,
        )
        .values(next_run_at=following, last_run_at=now)
    )
    if getattr(moved, "rowcount", 0) != 1:
        db.session.rollback()
        return None
    run = PolicyRun(
        policy_id=policy.id,
        policy_version=policy.version,
        kind="scheduled",
        started_at=now,
        slot_at=due,
        outcome="started",
    )
    db.session.add(run)
    db.session.commit()  # claimed before any call upstream
    return run


def run_slot(policy_id: int) -> PolicyRun | None:
    """Claim the policy's due slot and run it: search, then one deletion of what matched."""
    policy = db.session.get(RetentionPolicy, policy_id)
    now = utcnow()
    if policy is None or policy.state != "active" or policy.next_run_at is None:
        return None
    if policy.next_run_at > now or still_going(policy_id):
        return None  # not due, or its last deletion still runs: never twice at once
    run = claim(policy, now)
    if run is None:
        return None
    return _run(policy, run)


def _run(policy: RetentionPolicy, run: PolicyRun) -> PolicyRun:
    """Collect at most `max_images` matching ids and request their deletion (commits)."""
    query, most = policy.query, policy.max_images
    db.session.commit()  # no transaction stays open while the API answers
    try:
        count, ids = _search(query, most)
    except WesogError as exc:
        return _ended(run, policy, "failed", problem_of(exc, "a policy run").message)
    run.matched = count if count is not None else len(ids)
    run.taken, run.first_ids = len(ids), ids[:PREVIEW]
    if not ids:
        return _ended(run, policy, "nothing", "nothing matched the search")
    try:
        deletion = deletions.request_deletion(
            ids,
            deletions.DeletionOptions(f"{policy.reason} (retention policy {policy.name})"),
            deletions.Requester(f"policy:{policy.name}"),
            kind="query",
            query=policy.query,
            send_inline=False,
        )
    except deletions.DeletionInputError as exc:
        db.session.rollback()
        return _ended(run, policy, "failed", exc.message)
    run.deletion_id = deletion.id
    return _ended(run, policy, "deleting", None)


def _ended(run: PolicyRun, policy: RetentionPolicy, outcome: str, message: str | None) -> PolicyRun:
    run.outcome, run.message = outcome, message
    details: dict[str, Any] = {
        "name": policy.name,
        "version": run.policy_version,
        "slot": run.slot_at.isoformat() if run.slot_at else None,
        "matched": run.matched,
        "taken": run.taken,
        "message": message,
    }
    audit.record(
        "policy.ran",
        actor=f"policy:{policy.name}",
        outcome=outcome,
        deletion_id=run.deletion_id,
        details=details,
    )
    db.session.commit()
    log.info("retention policy %s ran: %s (%s)", policy.name, outcome, message or run.deletion_id)
    return run
