"""Typed results of the Wesog API: operations, images and search pages."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import WesogBadResponse

log = logging.getLogger(__name__)


def parse_time(value: Any) -> datetime | None:
    """An upstream ISO-8601 time as an aware UTC datetime (None stays None)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise WesogBadResponse(f"expected a time string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise WesogBadResponse(f"unreadable time {value!r}") from exc
    # A time without zone is taken as UTC: the API documents none, and UTC is the only sane guess.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


INT64_MAX = 2**63 - 1  # what a database BIGINT holds


def count_field(data: dict[str, Any], name: str, default: int = 0) -> int:
    """A non-negative integer field, bounded to signed 64 bits (a whole-valued float passes).

    `1e30`, `2**64`, `"x"`, `true` or `-1` are not readable counts or ids: WesogBadResponse,
    never an OverflowError further down (e.g. when the row is written).
    """
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer() and abs(value) <= INT64_MAX:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
        raise WesogBadResponse(f"unreadable {name}: {str(value)[:40]!r}")
    return value


def flag_field(data: dict[str, Any], name: str) -> bool:
    """A boolean field (absent or null is false); a string or number is unreadable."""
    value = data.get(name)
    if value is not None and not isinstance(value, bool):
        raise WesogBadResponse(f"unreadable {name}: {str(value)[:40]!r}")
    return bool(value)


def ms_field(data: dict[str, Any], name: str) -> float:
    """A finite, non-negative duration in milliseconds."""
    value = data.get(name)
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WesogBadResponse(f"unreadable {name}: {str(value)[:40]!r}")
    if not 0 <= float(value) <= 1e15:  # NaN and infinities fail too
        raise WesogBadResponse(f"unreadable {name}: {str(value)[:40]!r}")
    return float(value)


def _op_id(data: dict[str, Any], known: int | None) -> int | None:
    """The body's op_id (else the one we asked for), bounded like every count."""
    if data.get("op_id") is None:
        return known
    return count_field(data, "op_id")


@dataclass(frozen=True)
class OpError:
    """One element that failed inside an operation."""

    id: str
    msg: str


@dataclass(frozen=True)
class Operation:
    """The Operation object of wesog-api.md §3 (op_id may be absent upstream)."""

    op_id: int | None
    method: str
    resource: str
    num_total: int
    num_good: int
    num_bad: int
    is_started: bool
    is_finished: bool
    all_good: bool | None
    do_wait: bool
    do_urgent: bool
    do_strict: bool
    idle_ms: float
    exec_ms: float
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    errors: tuple[OpError, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any, op_id: int | None = None) -> Operation:
        """Build from a response body; unknown extra fields are kept in `raw` only."""
        if not isinstance(data, dict):
            raise WesogBadResponse("an operation must be a JSON object")
        try:
            errors = tuple(
                OpError(id=str(err.get("id"))[:256], msg=str(err.get("msg", ""))[:1000])
                for err in data.get("errors") or []
            )
            all_good = data.get("all_good")
            if all_good is not None and not isinstance(all_good, bool):
                raise WesogBadResponse("unreadable all_good")
            return cls(
                op_id=_op_id(data, op_id),
                method=str(data.get("method", "")),
                resource=str(data.get("resource", "")),
                num_total=count_field(data, "num_total"),
                num_good=count_field(data, "num_good"),
                num_bad=count_field(data, "num_bad"),
                is_started=flag_field(data, "is_started"),
                is_finished=flag_field(data, "is_finished"),
                all_good=all_good,
                do_wait=flag_field(data, "do_wait"),
                do_urgent=flag_field(data, "do_urgent"),
                do_strict=flag_field(data, "do_strict"),
                idle_ms=ms_field(data, "idle_ms"),
                exec_ms=ms_field(data, "exec_ms"),
                created_at=parse_time(data.get("created_at")),
                started_at=parse_time(data.get("started_at")),
                finished_at=parse_time(data.get("finished_at")),
                errors=errors,
                raw=data,
            )
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise WesogBadResponse(f"unreadable operation: {exc}") from exc


IMAGE_FIELDS = (
    "image_id",
    "src",
    "url_img_watermark",
    "url_img_thumbnail",
    "title",
    "headline",
    "caption",
    "alt_text",
    "ai_generated",
    "model_release",
    "property_release",
    "nsfw",
    "status",
    "date",
    "location",
    "city",
    "country",
    "event",
    "author",
    "provider",
    "shot",
    "scene",
    "technique",
    "medium",
    "keywords",
    "categories",
    "collections",
    "height",
    "width",
    "n_faces",
)
# Computed by the API (wesog-api.md §4.1), never sent back.
COMPUTED_FIELDS = ("height", "width", "n_faces")
# The input fields of an image (§4.2): what a write, and so a restore, may send.
INPUT_FIELDS = tuple(f for f in IMAGE_FIELDS if f != "image_id" and f not in COMPUTED_FIELDS)


@dataclass(frozen=True)
class Image:
    """One image's metadata; `fields` holds every field the API returned."""

    image_id: str
    fields: dict[str, Any]

    @classmethod
    def from_json(cls, data: Any) -> Image:
        """Build from a response body."""
        if not isinstance(data, dict) or "image_id" not in data:
            raise WesogBadResponse("an image must be a JSON object with an image_id")
        return cls(image_id=str(data["image_id"]), fields=data)

    def get(self, name: str, default: Any = None) -> Any:
        """One metadata field."""
        return self.fields.get(name, default)

    @property
    def title(self) -> str | None:
        """The image's title, if any."""
        return self.fields.get("title")

    @property
    def thumbnail_url(self) -> str | None:
        """Where its thumbnail lives, if anywhere."""
        return self.fields.get("url_img_thumbnail")


MAX_COUNT = 2**63 - 1


def search_count(value: Any) -> int | None:
    """The hit count of a search answer: a whole number ≥ 0, or None when not given."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise WesogBadResponse(f"a search count must be a whole number, not {str(value)[:40]!r}")
    return value


@dataclass(frozen=True)
class SearchPage:
    """One page of `GET /imgs` results."""

    results: tuple[Image, ...]
    count: int | None
    page: int
    limit: int
    facets: dict[str, Any]

    @property
    def has_next(self) -> bool:
        """Whether another page probably follows."""
        if self.count is None:
            return len(self.results) == self.limit
        return self.page * self.limit < self.count


def capped(results: list[Any], limit: int) -> list[Any]:
    """A search page's results, at most `limit` of them: a broken API answering 20,000 must
    not blow a page up. What is dropped is logged."""
    if len(results) <= limit:
        return results
    log.warning(
        "A search answered %d results for limit=%d; the rest are dropped", len(results), limit
    )
    return results[:limit]
