"""Finding audit events: filters from the query string, and keyset pages (never OFFSET)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, false, select

from ..extensions import db
from ..inputs import whole_number
from ..models import AuditEvent, DeletionItem, User, day_start, parse_day
from .search import reason_condition

PAGE_SIZE = 50
ACTIONS = (
    "deletion.requested",
    "deletion.submitted",
    "deletion.rejected",
    "deletion.unknown",
    "deletion.ended",
    "deletion.undone",
    "deletion.paused",
    "deletion.resumed",
    "deletion.cancelled",
    "deletion.stopped",
    "deletion.retried",
    "deletion.approved",
    "deletion.expired",
    "image.restore_requested",
    "snapshot.pruned",
    "operation.tracked",
    "operation.untracked",
    "operation.imported",
    "operation.ended",
    "operation.lost",
    "login.succeeded",
    "login.failed",
    "user.created",
    "user.role_changed",
    "user.disabled",
    "user.password_changed",
    "user.sessions_ended",
    "token.issued",
    "token.revoked",
    "token.refused",
    "setup.completed",
    "audit.verified",
    "audit.pruned",
    "alert.sent",
    "alert.failed",
    "alert.tested",
    "policy.created",
    "policy.changed",
    "policy.dry_run",
    "policy.approved",
    "policy.paused",
    "policy.resumed",
    "policy.run_requested",
    "policy.ran",
)
# Groups offered next to the single actions: "deletion.*" matches every deletion event.
ACTION_GROUPS = (
    "deletion.*",
    "operation.*",
    "image.*",
    "login.*",
    "user.*",
    "token.*",
    "audit.*",
    "alert.*",
    "policy.*",
)
OUTCOMES = (
    "done",
    "done_with_errors",
    "rejected",
    "unknown",
    "failed",
    "cancelled",
    "stopped",
    "intact",
    "broken",
    "revoked",
    "expired",
    "disabled",
)
QUIET_ACTION = "login.succeeded"  # left out of the audit page's default view
TEXT_FIELDS = ("actor", "action", "image_id", "outcome", "q")


@dataclass(frozen=True)
class AuditFilters:
    """What the audit page and the exports are narrowed to (empty: everything)."""

    actor: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    image_id: str = ""
    op_id: int | None = None
    outcome: str = ""
    q: str = ""
    errors: tuple[str, ...] = field(default=(), compare=False)
    # The page's default view leaves successful logins out (they drown the deletions); the
    # exports never set it. Not part of the query string: `view=all` on the page clears it.
    hide_logins: bool = field(default=False, compare=False)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilters:
        """Read the query string; values that do not parse are dropped and explained."""
        texts = {name: (args.get(name) or "").strip()[:256] for name in TEXT_FIELDS}
        errors: list[str] = []
        date_from = parse_day(args.get("from"), "From", errors)
        date_to = parse_day(args.get("to"), "To", errors)
        raw_op = (args.get("op_id") or "").strip()
        op_id = whole_number(raw_op)
        if raw_op and op_id is None:
            errors.append("An operation id is a whole number.")
        return cls(
            actor=texts["actor"],
            action=texts["action"],
            image_id=texts["image_id"],
            outcome=texts["outcome"],
            q=texts["q"],
            date_from=date_from,
            date_to=date_to,
            op_id=op_id,
            errors=tuple(errors),
        )

    def to_args(self) -> dict[str, str]:
        """The query-string form, without empty values (for links and exports)."""
        values = asdict(self)
        values.pop("errors")
        values.pop("hide_logins")
        args = {k: str(v) for k, v in values.items() if v not in ("", None)}
        if self.date_from:
            args["from"] = args.pop("date_from")
        if self.date_to:
            args["to"] = args.pop("date_to")
        return args

    @property
    def active(self) -> bool:
        """True when any filter narrows the log."""
        return bool(self.to_args())

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions for these filters."""
        e = AuditEvent
        found: list[ColumnElement[bool]] = []
        if self.actor:
            found.append(e.actor == self.actor)
        if self.action.endswith(".*"):
            found.append(e.action.like(_escape_like(self.action[:-1]) + "%", escape="\\"))
        elif self.action:
            found.append(e.action == self.action)
        if self.image_id:
            found.append(image_condition(self.image_id))
        if self.op_id is not None:
            found.append(e.op_id == self.op_id)
        if self.outcome:
            found.append(e.outcome == self.outcome)
        if self.hide_logins and not self.action:
            found.append(e.action != QUIET_ACTION)
        if self.q:
            found.append(reason_condition(self.q))
        return found + self._date_conditions()

    def _date_conditions(self) -> list[ColumnElement[bool]]:
        """UTC days, both ends included; also as an id range (see `id_bounds`)."""
        start = day_start(self.date_from) if self.date_from else None
        end = day_start(self.date_to + timedelta(days=1)) if self.date_to else None
        if start is None and end is None:
            return []
        low, high = id_bounds(start, end)
        if low is None or high is None or low > high:
            return [false()]
        found = [AuditEvent.id >= low, AuditEvent.id <= high]
        if start is not None:
            found.append(AuditEvent.at >= start)
        if end is not None:
            found.append(AuditEvent.at < end)
        return found


def _escape_like(text: str) -> str:
    """Make %, _ and the escape character itself match literally in LIKE."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def image_condition(image_id: str) -> ColumnElement[bool]:
    """Events about this image, directly or through a deletion request that contains it."""
    deletions = select(DeletionItem.deletion_id).where(DeletionItem.image_id == image_id)
    direct = select(AuditEvent.id).where(AuditEvent.image_id == image_id)
    via_deletion = select(AuditEvent.id).where(AuditEvent.deletion_id.in_(deletions))
    # An explicit UNION of two index lookups: an OR here lets SQLite walk the whole
    # primary key backwards looking for matches.
    return AuditEvent.id.in_(direct.union(via_deletion))


def id_bounds(start: datetime | None, end: datetime | None) -> tuple[int | None, int | None]:
    """The id range of the events with start <= at < end.

    Exact because `audit.record()` never lets `at` decrease along the chain; it lets the
    other filters walk their (column, id) indexes inside the range instead of checking
    the time of every row.
    """
    e = AuditEvent
    low = high = None
    if start is not None:
        low = db.session.scalar(select(e.id).where(e.at >= start).order_by(e.at, e.id).limit(1))
    else:
        low = db.session.scalar(select(e.id).order_by(e.id).limit(1))
    if end is not None:
        high = db.session.scalar(
            select(e.id).where(e.at < end).order_by(e.at.desc(), e.id.desc()).limit(1)
        )
    else:
        high = db.session.scalar(select(e.id).order_by(e.id.desc()).limit(1))
    return low, high


@dataclass(frozen=True)
class AuditPage:
    """One page of events, newest first, with the cursors of its neighbours."""

    events: list[AuditEvent]
    newer_after: int | None  # ?after= for the newer page, when there is one
    older_before: int | None  # ?before= for the older page, when there is one


def _exists(conditions: list[ColumnElement[bool]], beyond: ColumnElement[bool]) -> bool:
    """Is there one more matching event beyond the page (`beyond`)?"""
    found = select(AuditEvent.id).where(*conditions, beyond).limit(1)
    return db.session.scalar(found) is not None


def page(
    filters: AuditFilters,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """The page of `size` events just older than `before`, or just newer than `after`."""
    conditions = filters.conditions()
    query = select(AuditEvent).where(*conditions)
    e = AuditEvent
    if after is not None:
        rows = list(db.session.scalars(query.where(e.id > after).order_by(e.id).limit(size + 1)))
        events = rows[:size][::-1]
        more_newer = len(rows) > size
        more_older = bool(events) and _exists(conditions, e.id < events[-1].id)
    else:
        if before is not None:
            query = query.where(e.id < before)
        rows = list(db.session.scalars(query.order_by(e.id.desc()).limit(size + 1)))
        events = rows[:size]
        more_older = len(rows) > size
        more_newer = (
            before is not None and bool(events) and _exists(conditions, e.id > events[0].id)
        )
    return AuditPage(
        events,
        events[0].id if more_newer else None,
        events[-1].id if more_older else None,
    )


def actor_suggestions() -> list[str]:
    """Actors to suggest in the filter: the console's users, then `system`."""
    names = list(db.session.scalars(select(User.username).order_by(User.username).limit(500)))
    return [*names, "system"]
