"""What the guard-rail endpoints of /api/v1 take and answer: retention policies, their runs,
and approvals (of a policy's dry run or of a deletion waiting for a second person)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ...deletions import MAX_IDS
from ...models import POLICY_STATES, RUN_KINDS, RUN_OUTCOMES
from ...policies.schedule import MAX_EVERY_MINUTES
from ...shapes.schemas import Out
from .inputs import Reason

PolicyName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Formula = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Cron = Annotated[str, StringConstraints(min_length=1, max_length=120)]


class NewPolicy(BaseModel):
    """A retention policy: give `every_minutes` or `cron` (UTC), not both."""

    model_config = ConfigDict(extra="forbid")
    name: PolicyName
    query: Formula = Field(description="a Wesog `q` formula, as on the images page")
    every_minutes: int | None = Field(None, ge=1, le=MAX_EVERY_MINUTES)
    cron: Cron | None = Field(None, description="minute hour day month weekday, e.g. 0 3 * * *")
    max_images: int = Field(ge=1, le=MAX_IDS, description="most images one run deletes")
    reason: Reason = Field(description="recorded with every deletion it makes")


class Approval(BaseModel):
    """Approve what was seen: `version` is the policy version the dry run belongs to."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=2**31 - 1)
    reason: Reason


class Decision(BaseModel):
    """Approve or reject a deletion waiting for a second person, with why."""

    model_config = ConfigDict(extra="forbid")
    reason: Reason
    ids_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        None, description="approve only if the id list is still the one you reviewed"
    )


class PolicyRunOut(Out):
    """One dry run or run of a policy, with the deletion it made."""

    id: int
    kind: Literal[RUN_KINDS]  # type: ignore[valid-type]
    policy_version: int
    started_at: datetime
    slot_at: datetime | None
    matched: int | None
    taken: int
    outcome: Literal[RUN_OUTCOMES]  # type: ignore[valid-type]
    message: str | None
    deletion_id: int | None
    first_ids: list[str] | None = Field(description="the first 100 ids it matched")


class PolicyOut(Out):
    """A retention policy, its dry run waiting for approval, and its latest runs."""

    id: int
    name: str
    query: str
    every_minutes: int | None
    cron: str | None
    max_images: int
    reason: str
    author: str
    version: int
    state: Literal[POLICY_STATES]  # type: ignore[valid-type]
    created_at: datetime
    updated_at: datetime
    dry_run_at: datetime | None
    dry_run_count: int | None
    dry_run_ids: list[str] | None
    dry_run_message: str | None
    approved_by: str | None
    approved_at: datetime | None
    approval_reason: str | None
    next_run_at: datetime | None
    last_run_at: datetime | None
    runs: list[PolicyRunOut] = Field(description="the latest 100 runs, newest first")


class PolicyList(BaseModel):
    """Every retention policy, by name (runs left out: GET one for them)."""

    items: list[PolicyOut]
