"""The shapes /api/v1 answers with (pydantic models): the OpenAPI components are generated
from them, and every answer is built through them, so what is sent is what is documented."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..models import OP_ORIGINS, OP_STATES, ROLES, TOKEN_SCOPES
from ..models.deletions import DELETION_STATES, ITEM_OUTCOMES
from ..wesog.operation import OperationFields

OpState = Literal[OP_STATES]  # type: ignore[valid-type]
OpOrigin = Literal[OP_ORIGINS]  # type: ignore[valid-type]
DeletionState = Literal[DELETION_STATES]  # type: ignore[valid-type]
ItemOutcome = Literal[ITEM_OUTCOMES]  # type: ignore[valid-type]


class Out(BaseModel):
    """Base of every answer: read from ORM rows by attribute."""

    model_config = ConfigDict(from_attributes=True)


class Me(Out):
    """Who the token belongs to and what it may do."""

    username: str
    role: Literal[ROLES]  # type: ignore[valid-type]
    scope: Literal[TOKEN_SCOPES] = Field(  # type: ignore[valid-type]
        description="read: only GET; operate: what the role allows"
    )
    token_expires_at: datetime
    read_only: bool = Field(description="WESOG_READ_ONLY: nothing can be deleted")


class OperationError(Out):
    """One element's failure as the Wesog API reported it (`id` is an image id or index)."""

    model_config = ConfigDict(extra="allow")
    id: int | str | None = None
    msg: str | None = None


class Progress(Out):
    """Counts, percent, elapsed time and ETA, as the operation page shows them."""

    total: int
    good: int
    bad: int
    done: int
    percent_done: float
    elapsed_ms: float | None
    eta_seconds: float | None = Field(description="only while running, when a rate is known")


class OperationOut(OperationFields, Out):
    """One upstream operation as the poller last stored it (a negative op_id: a retired row)."""

    # The upstream fields are OperationFields' declarations; only what differs is listed here.
    op_id: int
    errors: list[OperationError]
    origin: OpOrigin
    state: OpState
    first_seen_at: datetime
    last_polled_at: datetime | None
    last_change_at: datetime | None
    poll_failures: int
    last_poll_error: str | None
    deletion_id: int | None
    missing_since: datetime | None = Field(description="first 404 of a run of them (missing)")
    upstream_op_id: int | None = Field(
        description="on a retired row (negative op_id): the upstream number it had"
    )
    progress: Progress


class OperationPage(Out):
    """A keyset page of operations, newest first."""

    items: list[OperationOut]
    next_before: int | None = Field(description="pass as `before` for the next (older) page")


class DeletionItem(Out):
    """One image id of a deletion request and what became of it."""

    position: int
    image_id: str
    op_id: int | None
    outcome: ItemOutcome
    inferred: bool = Field(description="read from the image's state, not from our operation")
    message: str | None
    settled_at: datetime | None


class DeletionSummary(Out):
    """A deletion request: who, when, why, options, state and outcome counts."""

    id: int
    created_at: datetime
    actor: str
    reason: str
    ticket: str | None
    do_wait: bool
    do_urgent: bool
    do_strict: bool
    selection_kind: Literal["single", "list", "query"]
    selection_query: str | None
    item_count: int
    ids_sha256: str
    state: DeletionState
    message: str | None
    attempts: int
    submitted_at: datetime | None
    finished_at: datetime | None
    op_ids: list[int]
    outcome_counts: dict[str, int] = Field(description="items per outcome")
    send_at: datetime | None = Field(
        description="while `scheduled`: the end of its undo window, when it is sent"
    )
    retry_of_id: int | None = Field(description="the deletion whose failures this one retries")


class Deletion(DeletionSummary):
    """A deletion request with the first page of its items."""

    items: list[DeletionItem]
    items_next_after: int | None = Field(
        description="pass as `after` to /deletions/{id}/items for the next page of items"
    )


class DeletionAnswer(Deletion):
    """A deletion after an action on it (undo, pause, resume, cancel), with what it did."""

    answer: str = Field(
        description='what the action did, e.g. "1 chunk was already being sent; the rest is '
        'cancelled"'
    )


class DeletionPage(Out):
    """A keyset page of deletion requests, newest first."""

    items: list[DeletionSummary]
    next_before: int | None


class ItemPage(Out):
    """A keyset page of one request's items, in the order given."""

    items: list[DeletionItem]
    next_after: int | None


class AuditEvent(Out):
    """One audit event (hash-chained)."""

    id: int
    at: datetime
    actor: str
    remote_addr: str | None
    action: str
    image_id: str | None
    op_id: int | None
    deletion_id: int | None
    outcome: str | None
    reason: str | None
    details: dict[str, Any] | None
    prev_hash: str
    hash: str


class Verdict(Out):
    """The hash chain's verdict, as /audit shows it."""

    state: Literal["intact", "broken", "checking"]
    events: int | None = Field(description="events walked by the last check")
    through_id: int | None = Field(description="newest event the last check reached")
    broken_id: int | None
    problem: str | None
    checked_at: datetime | None = Field(description="when the whole chain was last walked")


class AuditPage(Out):
    """A keyset page of audit events, newest first, with the chain verdict."""

    items: list[AuditEvent]
    newer_after: int | None = Field(description="pass as `after` for the newer page")
    older_before: int | None = Field(description="pass as `before` for the older page")
    verdict: Verdict


class FieldProblem(BaseModel):
    """One invalid parameter or field."""

    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """An error, as RFC 9457 `application/problem+json`."""

    type: str = Field(description="stable URI naming the kind of error")
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None
