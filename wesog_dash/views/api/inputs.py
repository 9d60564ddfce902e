"""What /api/v1 takes: query parameters and bodies as pydantic models.

`spec.operation` reads each view's query string and body through its declared models
(`read_query`, `read_body`) and documents the same models; a value that does not fit
becomes an `invalid-request` problem listing every field at fault.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from flask import request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from ...audit.queries import ACTION_GROUPS, ACTIONS, OUTCOMES
from ...deletions import MAX_IDS, MAX_REASON, MAX_TICKET
from ...inputs import iso_day, whole_number
from ...shapes.schemas import DeletionState, ItemOutcome, OpOrigin, OpState
from .problems import ApiProblem

M = TypeVar("M", bound=BaseModel)
BIGINT = 2**63 - 1
# Row ids of deletions, items and audit events are INTEGER columns (32-bit on PostgreSQL);
# operation ids are BIGINT.
INT32 = 2**31 - 1


def typed_whole_number(value: Any) -> Any:
    """A query-string number: ASCII digits (and a leading `-`) only, never ' 5', '+5',
    '1_000', '5.0' or '٣' (which pydantic's lax mode would read as numbers)."""
    if isinstance(value, str):
        number = whole_number(value, minimum=-BIGINT, maximum=BIGINT, signed=True)
        if number is None:
            raise ValueError("write a whole number with the digits 0-9")
        return number
    return value


def typed_day(value: Any) -> Any:
    """A day: the text YYYY-MM-DD only (pydantic would take 0 as a Unix time)."""
    if isinstance(value, date):
        return value
    day = iso_day(value) if isinstance(value, str) else None
    if day is None:
        raise ValueError("write the day as YYYY-MM-DD")
    return day


WholeNumber = Annotated[int, BeforeValidator(typed_whole_number)]
Day = Annotated[date, BeforeValidator(typed_day)]
Cursor = Annotated[WholeNumber, Field(ge=0, le=INT32)]
BigCursor = Annotated[WholeNumber, Field(ge=0, le=BIGINT)]
ImageId = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Query(BaseModel):
    """Query parameters: unknown ones are ignored, known ones must be right."""

    model_config = ConfigDict(extra="ignore")


class OpQuery(Query):
    """Filters and keyset paging of GET /ops."""

    state: OpState | None = None
    method: Annotated[str, StringConstraints(max_length=16)] | None = None
    resource: Annotated[str, StringConstraints(max_length=16)] | None = None
    origin: OpOrigin | None = None
    created_from: Day | None = Field(None, description="UTC day, inclusive")
    created_to: Day | None = Field(None, description="UTC day, inclusive")
    before: Annotated[WholeNumber, Field(ge=-BIGINT, le=BIGINT)] | None = Field(
        None, description="only operations with a smaller op_id (retired rows are negative)"
    )
    limit: WholeNumber = Field(50, ge=1, le=200)


class DeletionQuery(Query):
    """Filter and keyset paging of GET /deletions."""

    state: DeletionState | None = None
    before: Cursor | None = Field(None, description="only requests with a smaller id")
    limit: WholeNumber = Field(50, ge=1, le=200)


class ItemQuery(Query):
    """Filter and keyset paging of GET /deletions/{id}/items."""

    outcome: ItemOutcome | None = None
    after: Cursor | None = Field(None, description="only items at a later position")
    limit: WholeNumber = Field(500, ge=1, le=1000)


class AuditQuery(Query):
    """The /audit page's filters, and keyset paging."""

    actor: Annotated[str, StringConstraints(max_length=128)] | None = None
    action: Literal[ACTIONS + ACTION_GROUPS] | None = None  # type: ignore[valid-type]
    from_: Day | None = Field(None, alias="from", description="UTC day, inclusive")
    to: Day | None = Field(None, description="UTC day, inclusive")
    image_id: Annotated[str, StringConstraints(max_length=256)] | None = None
    op_id: BigCursor | None = None
    outcome: Literal[OUTCOMES] | None = None  # type: ignore[valid-type]
    q: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        None, description="words in the reason"
    )
    before: Cursor | None = Field(None, description="the older page: events with a smaller id")
    after: Cursor | None = Field(None, description="the newer page: events with a larger id")
    limit: WholeNumber = Field(50, ge=1, le=500)


class RetryQuery(Query):
    """Which failures of a deletion POST /deletions/{id}/retry sends again."""

    image_id: ImageId | None = Field(None, description="only this failed id (default: all)")


class ReceiptQuery(Query):
    """Which part of a finished deletion an erasure receipt covers."""

    image_id: ImageId | None = Field(
        None, description="only this image: the proof that it was deleted (default: all)"
    )


Reason = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REASON)]
Ticket = Annotated[str, StringConstraints(max_length=MAX_TICKET)]


class DeletionOptionsIn(BaseModel):
    """Reason, ticket and options of a new deletion request."""

    model_config = ConfigDict(extra="forbid")
    reason: Reason = Field(description="why these images are deleted (audited)")
    ticket: Ticket | None = None
    wait: bool = Field(False, description="the API finishes the operation before answering")
    urgent: bool = Field(False, description="to the head of the tenant's queue")
    strict: bool = Field(False, description="a missing id fails its element")
    restorable_only: bool = Field(
        False, description="images whose metadata cannot be kept for a restore are not deleted"
    )


class NewDeletion(DeletionOptionsIn):
    """A JSON body: exactly one of `image_ids` and `query` (a formula, resolved to its ids)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["image_ids"]}, {"required": ["query"]}]},
    )

    image_ids: list[ImageId] | None = Field(None, min_length=1, max_length=MAX_IDS)
    query: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = Field(
        None, description="a Wesog `q` formula; every match is deleted"
    )


class NewDeletionForm(BaseModel):
    """A multipart form: exactly one of `ids` (a text file, one id per line) and `query`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["ids"]}, {"required": ["query"]}]},
    )
    reason: Reason
    ticket: Ticket | None = None
    wait: bool = False
    urgent: bool = False
    strict: bool = False
    restorable_only: bool = False
    ids: bytes | None = Field(None, description="text file, one image id per line")
    query: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None


class TextDeletionQuery(Query):
    """Options of a `text/plain` body (the ids, one per line) travel as query parameters."""

    reason: Reason | None = Field(None, description="required with a text/plain body")
    ticket: Ticket | None = None
    wait: bool = False
    urgent: bool = False
    strict: bool = False
    restorable_only: bool = False


def field_problems(error: ValidationError) -> list[dict[str, Any]]:
    """Each field at fault, as `{loc, msg}`."""
    return [{"loc": list(item["loc"]), "msg": item["msg"]} for item in error.errors()]


def parse(model: type[M], data: Any, where: str) -> M:
    """`data` read as `model`; an ApiProblem (invalid-request) says what is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = field_problems(error)
        first = problems[0]
        place = ".".join(str(part) for part in first["loc"]) or where
        detail = f"Invalid {where}: {place}: {first['msg']}"
        raise ApiProblem("invalid-request", detail, errors=problems) from error


def read_query(model: type[M]) -> M:
    """The query string read as `model`."""
    return parse(model, request.args.to_dict(), "query")


def read_body(accepted: dict[str, type[BaseModel] | dict[str, Any]]) -> Any:
    """The body in the media type it was sent as: a model, or the raw bytes of a body
    declared by a literal schema (e.g. text/plain)."""
    media = request.mimetype
    if media not in accepted:
        if len(accepted) > 1:
            kinds = ", ".join(accepted)
            raise ApiProblem("unsupported-media-type", f"Send the request as one of: {kinds}.")
        media = next(iter(accepted))  # the only one: its reader says what is wrong
    model = accepted[media]
    if not isinstance(model, type):
        return request.get_data(cache=False)
    if media == "multipart/form-data":
        files = {k: f.read() for k, f in request.files.items() if k in model.model_fields}
        return parse(model, {**request.form.to_dict(), **files}, "form")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        fields = ", ".join(f'"{name}"' for name in model.model_fields)
        raise ApiProblem("invalid-request", f"Send a JSON object with the fields {fields}.")
    return parse(model, data, "body")
