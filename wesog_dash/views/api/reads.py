"""Reading through the API: who am I, operations, deletion requests and their items."""

from __future__ import annotations

from flask import g, jsonify
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import deletions, operations
from ...accounts.permissions import read_only, role_required
from ...models import DeletionRequest
from ...shapes import schemas
from ...shapes.serialize import deletion_out, operation_out, summaries_out
from . import bp
from .inputs import INT32, DeletionQuery, ItemQuery, OpQuery
from .problems import ApiProblem
from .spec import operation


def answer(model: schemas.BaseModel, status: int = 200) -> Response:
    """A model as a JSON response (datetimes in ISO 8601 UTC)."""
    response = jsonify(model.model_dump(mode="json"))
    response.status_code = status
    return response


@bp.get("/me")
@role_required("viewer")
@operation("Who am I", scope="read", responses={200: schemas.Me}, tag="account")
def me() -> Response:
    """Who this token belongs to, its scope and expiry, and whether the console is read-only."""
    token = g.api_token
    found = schemas.Me(
        username=current_user.username,
        role=current_user.role,
        scope=token.scope,
        token_expires_at=token.expires_at,
        read_only=read_only(),
    )
    return answer(found)


@bp.get("/ops")
@role_required("viewer")
@operation(
    "List operations",
    scope="read",
    query=OpQuery,
    responses={200: schemas.OperationPage},
    problems=(400,),
    tag="operations",
)
def operation_list(query: OpQuery) -> Response:
    """Operations known here (any method, resource, origin), newest first, filtered."""
    filters = operations.OpFilters(
        state=query.state,
        method=query.method,
        resource=query.resource,
        origin=query.origin,
        created_from=query.created_from,
        created_to=query.created_to,
    )
    rows, next_before = operations.operations_before(filters, query.before, query.limit)
    page = schemas.OperationPage(items=[operation_out(op) for op in rows], next_before=next_before)
    return answer(page)


@bp.get("/ops/<int(signed=True):op_id>")
@role_required("viewer")
@operation(
    "One operation",
    scope="read",
    responses={200: schemas.OperationOut},
    problems=(404,),
    tag="operations",
)
def operation_detail(op_id: int) -> Response:
    """One operation with its per-element errors and progress, from the database."""
    op = operations.load_operation(op_id)
    if op is None:
        raise ApiProblem("not-found", f"No operation {op_id} is known here.")
    return answer(operation_out(op))


@bp.get("/deletions")
@role_required("viewer")
@operation(
    "List deletion requests",
    scope="read",
    query=DeletionQuery,
    responses={200: schemas.DeletionPage},
    problems=(400,),
    tag="deletions",
)
def deletion_list(query: DeletionQuery) -> Response:
    """Deletion requests, newest first (refused ones included), with outcome counts."""
    rows, next_before = deletions.deletions_before(query.before, query.limit, query.state)
    return answer(schemas.DeletionPage(items=summaries_out(rows), next_before=next_before))


def deletion_or_404(deletion_id: int) -> DeletionRequest:
    """The deletion request, or a not-found problem."""
    found = deletions.get_deletion(deletion_id) if deletion_id <= INT32 else None
    if found is None:
        raise ApiProblem("not-found", f"No deletion request {deletion_id} exists.")
    return found


@bp.get("/deletions/<int:deletion_id>")
@role_required("viewer")
@operation(
    "One deletion request",
    scope="read",
    responses={200: schemas.Deletion},
    problems=(404,),
    tag="deletions",
)
def deletion_detail(deletion_id: int) -> Response:
    """One deletion request: who, why, options, state, outcome counts, its first 100 items."""
    return answer(deletion_out(deletion_or_404(deletion_id)))


@bp.get("/deletions/<int:deletion_id>/items")
@role_required("viewer")
@operation(
    "Items of a deletion request",
    scope="read",
    query=ItemQuery,
    responses={200: schemas.ItemPage},
    problems=(400, 404),
    tag="deletions",
)
def deletion_items(deletion_id: int, query: ItemQuery) -> Response:
    """The image ids of one request and their outcomes, a keyset page at a time."""
    deletion = deletion_or_404(deletion_id)
    rows, next_after = deletions.items_after(deletion.id, query.after, query.limit, query.outcome)
    items = [schemas.DeletionItem.model_validate(item) for item in rows]
    return answer(schemas.ItemPage(items=items, next_after=next_after))
