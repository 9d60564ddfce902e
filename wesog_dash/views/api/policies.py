"""Retention policies through the API: list, create (with its dry run), read, change, approve
(someone other than the author), pause, resume, and a dry run on demand."""

from __future__ import annotations

from collections.abc import Callable

from flask import url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import policies
from ...accounts.permissions import destructive, role_required
from ...models import RetentionPolicy
from . import bp
from .guard_models import Approval, NewPolicy, PolicyList, PolicyOut, PolicyRunOut
from .problems import ApiProblem
from .reads import answer
from .spec import operation

SLUGS = {
    "invalid": "invalid-request",
    "not-found": "not-found",
    "taken": "policy-exists",
    "own-policy": "own-request",
    "not-awaiting": "not-awaiting-approval",
    "no-dry-run": "no-dry-run",
    "not-paused": "policy-state",
    "not-active": "policy-state",
}
POLICY = "/policies/<int:policy_id>"


def refused(error: policies.PolicyError) -> ApiProblem:
    """The problem document of a refused policy change."""
    return ApiProblem(SLUGS.get(error.reason, "invalid-request"), error.message)


def policy_out(policy: RetentionPolicy, with_runs: bool = True) -> PolicyOut:
    """A policy as the API answers it (its latest 100 runs when asked)."""
    runs = [PolicyRunOut.model_validate(run) for run in policy.runs[:100]] if with_runs else []
    return PolicyOut.model_validate(policy).model_copy(update={"runs": runs})


def found(policy_id: int) -> RetentionPolicy:
    """The policy, or a not-found problem."""
    try:
        return policies.find_policy(policy_id)
    except policies.PolicyError as error:
        raise refused(error) from error


def acted_on(policy_id: int, act: Callable[[], object]) -> Response:
    """Do `act` to an existing policy: its refusal as a problem, else the policy as it stands."""
    found(policy_id)
    try:
        act()
    except policies.PolicyError as error:
        raise refused(error) from error
    return answer(policy_out(found(policy_id)))


def rule_of(new: NewPolicy) -> policies.PolicyRule:
    """The service's rule from the API's body."""
    return policies.PolicyRule(
        new.name, new.query, new.every_minutes, new.cron, new.max_images, new.reason
    )


@bp.get("/policies")
@role_required("viewer")
@operation("List retention policies", scope="read", responses={200: PolicyList}, tag="policies")
def policy_list() -> Response:
    """Every retention policy by name (`runs` is empty here: read one policy for them)."""
    items = [policy_out(policy, with_runs=False) for policy in policies.all_policies()]
    return answer(PolicyList(items=items))


@bp.post("/policies")
@role_required("operator")
@destructive
@operation(
    "Create a retention policy",
    scope="operate",
    body={"application/json": NewPolicy},
    responses={201: PolicyOut},
    problems=(400, "policy-exists"),
    tag="policies",
)
def policy_create(body: NewPolicy) -> Response:
    """Save a policy and make its dry run; it runs once someone else approves that version."""
    try:
        policy = policies.add_policy(rule_of(body), actor=current_user.username)
    except policies.PolicyError as error:
        raise refused(error) from error
    policies.dry_run(policy.id, actor=current_user.username)
    response = answer(policy_out(found(policy.id)), 201)
    response.headers["Location"] = url_for("api.policy_detail", policy_id=policy.id)
    return response


@bp.get(POLICY)
@role_required("viewer")
@operation(
    "One retention policy",
    scope="read",
    responses={200: PolicyOut},
    problems=(404,),
    tag="policies",
)
def policy_detail(policy_id: int) -> Response:
    """One policy, its dry run, its approval and its latest 100 runs (with their deletions)."""
    return answer(policy_out(found(policy_id)))


@bp.put(POLICY)
@role_required("operator")
@destructive
@operation(
    "Change a retention policy",
    scope="operate",
    body={"application/json": NewPolicy},
    responses={200: PolicyOut},
    # 405: werkzeug checks the method of the GET rule on this path before the id's range,
    # so an id too large for a row answers "method not allowed" rather than 404.
    problems=(400, 404, 405),
    tag="policies",
)
def policy_change(policy_id: int, body: NewPolicy) -> Response:
    """A new version (same name): it stops running until its new dry run is approved."""

    def change_then_dry_run() -> None:
        policies.change_policy(policy_id, rule_of(body), actor=current_user.username)
        policies.dry_run(policy_id, actor=current_user.username)

    return acted_on(policy_id, change_then_dry_run)


@bp.post(POLICY + "/approve")
@role_required("operator")
@destructive
@operation(
    "Approve a policy's dry run",
    scope="operate",
    body={"application/json": Approval},
    responses={200: PolicyOut},
    problems=(400, 404, "own-request", "not-awaiting-approval", "no-dry-run"),
    tag="policies",
)
def policy_approve(policy_id: int, body: Approval) -> Response:
    """Approve the dry run of `version`; refused to the author (403) and to a changed version."""
    return acted_on(
        policy_id,
        lambda: policies.approve_policy(
            policy_id, body.version, actor=current_user.username, reason=body.reason
        ),
    )


@bp.post(POLICY + "/pause")
@role_required("operator")
@operation(
    "Pause a policy",
    scope="operate",
    responses={200: PolicyOut},
    problems=(404, "policy-state"),
    tag="policies",
)
def policy_pause(policy_id: int) -> Response:
    """No more runs until resumed (allowed while read-only: it holds deletions back)."""
    return acted_on(
        policy_id, lambda: policies.pause_policy(policy_id, actor=current_user.username)
    )


@bp.post(POLICY + "/resume")
@role_required("operator")
@destructive
@operation(
    "Resume a policy",
    scope="operate",
    responses={200: PolicyOut},
    problems=(404, "policy-state"),
    tag="policies",
)
def policy_resume(policy_id: int) -> Response:
    """Run again from the next slot (slots missed while paused are not made up)."""
    return acted_on(
        policy_id, lambda: policies.resume_policy(policy_id, actor=current_user.username)
    )


@bp.post(POLICY + "/dry-run")
@role_required("operator")
@operation(
    "Dry run a policy now",
    scope="operate",
    responses={200: PolicyRunOut},
    problems=(404,),
    tag="policies",
)
def policy_dry_run(policy_id: int) -> Response:
    """What the policy would delete now: the count and the first 100 ids (nothing deleted)."""
    run = policies.dry_run(found(policy_id).id, actor=current_user.username)
    return answer(PolicyRunOut.model_validate(run))
