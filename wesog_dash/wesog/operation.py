"""The Operation object of wesog-api.md §3, read leniently where the reference is silent.

One pydantic model, `OperationSnapshot`, reads it (README, "Where the API reference is
silent"): `errors[].id` may be an integer or a string and is kept as a string; a time without
a zone is UTC; an absent or null field reads as zero, false or empty; an unknown field is kept
in `raw` only. Counts are bounded to what a database BIGINT holds, so a wrong-typed or
oversized field is a `WesogBadResponse`, never an OverflowError further down.

`OperationFields` declares the fields the console keeps as they came: the stored row carries
them, and the public API schema reuses their declarations rather than listing them again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SkipValidation,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from .errors import WesogBadResponse

INT64_MAX = 2**63 - 1  # what a database BIGINT holds
MAX_MS = 1e15  # a duration past this (about 31,000 years) is not a reading
MAX_ERROR_ID = 256  # an image id is at most this long
MAX_ERROR_MSG = 1000


def read_count(value: Any) -> int:
    """A whole number in 0..INT64_MAX (a whole-valued float passes); null is 0.

    `1e30`, `2**64`, `"x"`, `true` or `-1` are not readable counts or ids.
    """
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer() and abs(value) <= INT64_MAX:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
        raise ValueError("not a count")
    return value


def read_id(value: Any) -> int | None:
    """An op id: a count, or None when the body does not say."""
    return None if value is None else read_count(value)


def read_flag(value: Any) -> bool:
    """A boolean (null is false); a string or number is unreadable."""
    if value is not None and not isinstance(value, bool):
        raise ValueError("not a boolean")
    return bool(value)


def read_verdict(value: Any) -> bool | None:
    """`all_good`: a boolean, or null before anything ran."""
    return None if value is None else read_flag(value)


def read_ms(value: Any) -> float:
    """A finite, non-negative duration in milliseconds (null is 0)."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("not a duration")
    if not 0 <= value <= MAX_MS:  # NaN and infinities fail too; a huge int never overflows
        raise ValueError("not a duration")
    return float(value)


def read_time(value: Any) -> datetime | None:
    """An ISO-8601 time as an aware UTC datetime (null or empty is None)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):  # a stored row's value, read by the public schema
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise ValueError("not a time")
    # A time without zone is taken as UTC: the API documents none, and UTC is the only sane guess.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def read_text(value: Any) -> str | None:
    """A word such as `method`: whatever came, as text (null stays None)."""
    return None if value is None else str(value)


def read_errors(value: Any) -> list[Any]:
    """The `errors` list (null or empty: none); anything else is unreadable."""
    if not value:
        return []
    if not isinstance(value, list):
        raise ValueError("not a list")
    return value


Count = Annotated[int, BeforeValidator(read_count)]
Flag = Annotated[bool, BeforeValidator(read_flag)]
Millis = Annotated[float, BeforeValidator(read_ms)]
Time = Annotated[datetime | None, BeforeValidator(read_time)]
Text = Annotated[str | None, BeforeValidator(read_text)]


class OpError(BaseModel):
    """One element that failed inside an operation: `id` as text, whatever type it came as."""

    model_config = ConfigDict(frozen=True)

    id: Annotated[str, BeforeValidator(lambda v: str(v)[:MAX_ERROR_ID])] = ""
    msg: Annotated[str, BeforeValidator(lambda v: str(v)[:MAX_ERROR_MSG])] = ""


class OperationFields(BaseModel):
    """The fields of an operation kept as upstream gave them (`op_id` None: the body omitted it)."""

    op_id: Annotated[int | None, BeforeValidator(read_id)]
    method: Text
    resource: Text
    num_total: Count
    num_good: Count
    num_bad: Count
    is_started: Flag
    is_finished: Flag
    all_good: Annotated[bool | None, BeforeValidator(read_verdict)]
    do_wait: Flag
    do_urgent: Flag
    do_strict: Flag
    idle_ms: Millis
    exec_ms: Millis
    created_at: Time
    started_at: Time
    finished_at: Time


class OperationSnapshot(OperationFields):
    """One upstream operation as the API answered it: the Operation object of wesog-api.md §3."""

    model_config = ConfigDict(frozen=True)

    errors: Annotated[tuple[OpError, ...], BeforeValidator(read_errors)]
    # The whole body as it came, unknown fields included (not validated: it is kept, not read).
    raw: SkipValidation[dict[str, Any]] = Field(repr=False)

    @model_validator(mode="before")
    @classmethod
    def _absent_is_null(cls, data: Any, info: ValidationInfo) -> Any:
        """Absent fields read as null; the op id asked for stands in for an omitted one."""
        if not isinstance(data, dict):
            return data
        body = dict.fromkeys(cls.model_fields) | data
        if body["op_id"] is None and info.context:
            body["op_id"] = info.context.get("op_id")
        body["raw"] = data
        return body

    @classmethod
    def from_json(cls, data: Any, op_id: int | None = None) -> OperationSnapshot:
        """Read a response body; `op_id` is the id asked for (`GET /ops/{id}` omits it)."""
        if not isinstance(data, dict):
            raise WesogBadResponse("an operation must be a JSON object")
        try:
            return cls.model_validate(data, context={"op_id": op_id})
        except ValidationError as exc:
            raise WesogBadResponse(f"unreadable {_where(exc)}") from exc


def _where(exc: ValidationError) -> str:
    """The first unreadable field and (the start of) what it held."""
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "operation"
    return f"{field}: {str(first.get('input'))[:40]!r}"
