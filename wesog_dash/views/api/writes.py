"""Creating a deletion request through the API: ids in JSON, an uploaded list (text/plain or
multipart), or a search formula resolved to its ids before anything is written."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import deletions, images
from ...accounts.permissions import destructive, role_required
from ...shapes import schemas
from ...shapes.serialize import deletion_out
from ...upstream import UpstreamProblem
from . import bp
from .inputs import DeletionOptionsIn, NewDeletion, NewDeletionForm, TextDeletionQuery
from .problems import ApiProblem
from .reads import answer
from .spec import operation

TEXT_BODY = {"type": "string", "description": "image ids, one per line"}
UPSTREAM_SLUGS = {
    "rejected": "upstream-rejected",
    "rate_limited": "upstream-rate-limited",
    "not_found": "upstream-rejected",
}


def utf8(data: bytes) -> str:
    """An uploaded id list as text; invalid-request when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ApiProblem("invalid-request", "The id list must be UTF-8 text.") from error


def selection(
    body: NewDeletion | NewDeletionForm | bytes, query: TextDeletionQuery
) -> tuple[list[str] | None, str | None, DeletionOptionsIn]:
    """Ids or a formula, and the options, from whichever body was sent: JSON (`image_ids` or
    `query`), a multipart form (an `ids` file or `query`), or text/plain ids (one per line,
    the options in the query string)."""
    if isinstance(body, NewDeletion):
        exactly_one(body.image_ids, body.query, "image_ids")
        return body.image_ids, body.query, body
    if isinstance(body, NewDeletionForm):
        exactly_one(body.ids, body.query, "ids")
        ids = deletions.ids_from_text(utf8(body.ids)) if body.ids is not None else None
        options = DeletionOptionsIn(**body.model_dump(exclude={"ids", "query"}))
        return ids, body.query, options
    if query.reason is None:
        raise ApiProblem("invalid-request", "Give the reason as ?reason=… with a text body.")
    return deletions.ids_from_text(utf8(body)), None, DeletionOptionsIn(**query.model_dump())


def exactly_one(ids: Any, query: str | None, ids_field: str) -> None:
    """The body names its images one way: by ids or by a formula, never both or neither."""
    if (ids is None) == (query is None):
        given = "both were given" if ids is not None else "neither was given"
        detail = f"Give exactly one of `{ids_field}` and `query`; {given}."
        raise ApiProblem("invalid-request", detail)


def resolve(ids: list[str] | None, query: str | None) -> tuple[list[str], str, str | None]:
    """The ids to delete, the kind of selection, and the formula they came from."""
    if query is None:
        return ids or [], "list" if len(ids or []) > 1 else "single", None
    try:
        matches = images.matching_ids(query)
    except images.TooManyMatches as error:
        raise ApiProblem("too-many-matches", str(error)) from error
    if not matches.ids:
        raise ApiProblem("invalid-request", f"The search {query!r} matches no image.")
    return matches.ids, "query", query


@bp.post("/deletions")
@role_required("operator")
@destructive
@operation(
    "Create a deletion request",
    scope="operate",
    body={
        "application/json": NewDeletion,
        "text/plain": TEXT_BODY,
        "multipart/form-data": NewDeletionForm,
    },
    query=TextDeletionQuery,
    responses={202: schemas.Deletion},
    problems=(400, 415, 422, 502, 503),
    tag="deletions",
)
def create_deletion(
    body: NewDeletion | NewDeletionForm | bytes, query: TextDeletionQuery
) -> Response:
    """Ask for images to be deleted; answers 202 with the request to follow (`Location`).

    The body is JSON (`image_ids` or `query`, with `reason` and options), a text/plain list
    of ids (options as query parameters), or a multipart form with an `ids` file or `query`.
    A query is resolved to its ids now: exactly those are deleted.
    """
    try:
        ids, formula, options = selection(body, query)
        ids, kind, formula = resolve(ids, formula)
        found = deletions.request_deletion(
            ids,
            deletions.DeletionOptions(**options.model_dump(exclude={"image_ids", "query"})),
            deletions.Requester(current_user.username, current_user.id, request.remote_addr),
            kind=kind,
            query=formula,
        )
    except deletions.DeletionInputError as error:
        raise ApiProblem("invalid-request", error.message) from error
    except UpstreamProblem as error:
        slug = UPSTREAM_SLUGS.get(error.problem.kind, "upstream-unavailable")
        raise ApiProblem(slug, error.message) from error
    response = answer(deletion_out(found), 202)
    response.headers["Location"] = url_for("api.deletion_detail", deletion_id=found.id)
    return response
