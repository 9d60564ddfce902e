"""Retention policies in the browser: the list with a form for a new one, one policy with its
dry run, its approval by someone else, pause and resume, changes, and every run it made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import policies
from ..accounts.permissions import destructive, role_required
from ..inputs import whole_number
from ..models import RetentionPolicy
from ..wording import counted
from .guard_forms import ApprovalForm, PolicyForm

bp = Blueprint("policies", __name__)


def found(policy_id: int) -> RetentionPolicy:
    """The policy, or a 404 page."""
    try:
        return policies.find_policy(policy_id)
    except policies.PolicyError as error:
        abort(404, description=error.message)


@bp.get("/policies")
@role_required("viewer")
def policy_list() -> str:
    """Every retention policy, and (for operators) a form for a new one."""
    return render_template(
        "policies/policies.html", policies=policies.all_policies(), form=PolicyForm(formdata=None)
    )


@bp.post("/policies")
@role_required("operator")
@destructive
def policy_create() -> ResponseReturnValue:
    """Save a new policy and make its dry run; it waits for someone else's approval."""
    form = PolicyForm()
    try:
        if not form.validate():
            raise policies.PolicyError(form.first_error or "Check the form")
        policy = policies.add_policy(form.rule(), actor=current_user.username)
    except policies.PolicyError as error:
        page = render_template(
            "policies/policies.html",
            policies=policies.all_policies(),
            form=form,
            message=error.message,
        )
        return page, 422
    policies.dry_run(policy.id, actor=current_user.username)
    return redirect(url_for("policies.policy_detail", policy_id=policy.id), 303)


def detail_page(policy: RetentionPolicy, **extra: object) -> str:
    """One policy's page: its rule, dry run, approval, runs, and the change form."""
    form = extra.pop("form", None) or PolicyForm(formdata=None, obj=policy)
    approval = extra.pop("approval", None) or ApprovalForm(
        formdata=None, data={"seen": str(policy.version)}
    )
    may_approve = policy.state == "awaiting_approval" and policy.author != current_user.username
    return render_template(
        "policies/policy.html",
        policy=policy,
        form=form,
        approval=approval,
        may_approve=may_approve,
        runs=policy.runs[:100],
        **extra,
    )


@bp.get("/policies/<int:policy_id>")
@role_required("viewer")
def policy_detail(policy_id: int) -> str:
    """One policy: its rule, its dry run waiting for approval, and the runs it made."""
    return detail_page(found(policy_id))


@bp.post("/policies/<int:policy_id>")
@role_required("operator")
@destructive
def policy_change(policy_id: int) -> ResponseReturnValue:
    """Change a policy: a new version whose new dry run waits for someone else's approval."""
    policy, form = found(policy_id), PolicyForm()
    try:
        if not form.validate():
            raise policies.PolicyError(form.first_error or "Check the form")
        policies.change_policy(policy.id, form.rule(), actor=current_user.username)
    except policies.PolicyError as error:
        return detail_page(found(policy_id), form=form, message=error.message), 422
    policies.dry_run(policy_id, actor=current_user.username)
    flash("Policy changed: its new dry run waits for someone else's approval.", "info")
    return redirect(url_for("policies.policy_detail", policy_id=policy_id), 303)


@bp.post("/policies/<int:policy_id>/approve")
@role_required("operator")
@destructive
def policy_approve(policy_id: int) -> ResponseReturnValue:
    """Approve the dry run shown (its version travels with the form): the policy runs."""
    policy, form = found(policy_id), ApprovalForm()
    seen = whole_number(form.seen.data)
    try:
        if not form.validate() or seen is None:
            raise policies.PolicyError(form.first_error or "Review the dry run again")
        policies.approve_policy(
            policy.id, seen, actor=current_user.username, reason=form.reason.data or ""
        )
    except policies.PolicyError as error:
        status = 403 if error.reason == "own-policy" else 409
        return detail_page(found(policy_id), approval=form, message=error.message), status
    flash(f"Policy {policy.name} approved: it runs from now on.", "success")
    return redirect(url_for("policies.policy_detail", policy_id=policy_id), 303)


@bp.post("/policies/<int:policy_id>/pause")
@role_required("operator")
def policy_pause(policy_id: int) -> ResponseReturnValue:
    """No more runs until resumed (allowed while read-only: it only holds deletions back)."""
    return _move(policy_id, policies.pause_policy, "paused")


@bp.post("/policies/<int:policy_id>/resume")
@role_required("operator")
@destructive
def policy_resume(policy_id: int) -> ResponseReturnValue:
    """Run again from the next slot (missed ones are not made up)."""
    return _move(policy_id, policies.resume_policy, "resumed")


@bp.post("/policies/<int:policy_id>/dry-run")
@role_required("operator")
def policy_dry_run(policy_id: int) -> ResponseReturnValue:
    """Ask the API again what the policy would delete now."""
    run = policies.dry_run(found(policy_id).id, actor=current_user.username)
    if run.outcome == "failed":
        flash(f"Dry run failed: {run.message}", "error")
    else:
        matched = (
            f"{counted(run.matched or 0, 'image')} {'matches' if run.matched == 1 else 'match'}"
        )
        flash(f"Dry run: {matched}; a run would delete {run.taken:,}.", "info")
    return redirect(url_for("policies.policy_detail", policy_id=policy_id), 303)


def _move(policy_id: int, change: Callable[..., Any], word: str) -> ResponseReturnValue:
    policy = found(policy_id)
    try:
        change(policy.id, actor=current_user.username)
    except policies.PolicyError as error:
        return detail_page(found(policy_id), message=error.message), 409
    flash(f"Policy {policy.name} {word}.", "info")
    return redirect(url_for("policies.policy_detail", policy_id=policy_id), 303)
