"""How values look on a page: one plain word (and badge colour) per state, outcome and audit
action; times in the reader's zone with "3 min ago"; durations in words; stacked progress bars.

Pages use these words; exports and the JSON API keep the codes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from ..models import OP_STATES

# code -> (plain words, tone). Tones are badge colours: good, bad, warn, busy, idle, info.
WORDS: dict[str, tuple[str, str]] = {
    # operations
    "queued": ("Queued", "idle"),
    "running": ("Running", "busy"),
    "finished": ("Finished", "good"),
    "finished_with_errors": ("Finished with errors", "bad"),
    "stale": ("No progress lately", "warn"),
    "unknown": ("Unknown", "warn"),
    "missing": ("Not found upstream", "warn"),
    "lost": ("Lost upstream", "bad"),
    "unfinished": ("Queued or running", "busy"),
    # deletion requests
    "pending": ("Waiting to be sent", "idle"),
    "partly_sent": ("Partly sent", "busy"),  # pending, with chunks already sent (views/words)
    "submitted": ("Sent", "busy"),
    "done": ("Finished", "good"),
    "done_with_errors": ("Finished with errors", "bad"),
    "rejected": ("Refused", "bad"),
    "scheduled": ("Sending soon (can be undone)", "idle"),
    "paused": ("Paused", "warn"),
    "cancelled": ("Cancelled", "info"),
    "stopped": ("Stopped on failures", "bad"),
    "sending": ("Sending a chunk", "busy"),
    "pausing": ("Paused (work already sent still runs)", "warn"),
    "cancelling": ("Cancelled (work already sent still runs)", "idle"),
    "stopping": ("Stopped on failures (work already sent still runs)", "bad"),
    "awaiting_approval": ("Waiting for approval", "warn"),
    # retention policies (and their runs), API tokens
    "active": ("Active", "good"),
    "dry_run": ("Dry run", "info"),
    "deleting": ("Deletion made", "busy"),
    "nothing": ("Nothing matched", "info"),
    "started": ("Started", "busy"),
    # items of a deletion
    "deleted": ("Deleted", "good"),
    "failed": ("Not deleted", "bad"),
    "not_found": ("Not found", "info"),
    # audit outcomes
    "intact": ("Chain intact", "good"),
    "broken": ("Chain broken", "bad"),
    "revoked": ("Revoked", "info"),
    "expired": ("Expired", "warn"),
    "disabled": ("Disabled", "info"),
    # why the pace of upstream calls is what it is (upstream/pace.py)
    "pace_start": ("starting pace", "idle"),
    "pace_rising": ("rising: the API answers quickly", "good"),
    "pace_maximum": ("at the maximum (WESOG_MAX_CALLS_PER_SECOND)", "good"),
    "pace_steady": ("steady", "info"),
    "pace_429": ("cut: the API answered 429 (too many requests)", "warn"),
    "pace_5xx": ("cut: the API failed (5xx)", "warn"),
    "pace_timeout": ("cut: the API did not answer in time", "warn"),
    "pace_slow": ("cut: the API answers more slowly", "warn"),
    # origins
    "dashboard": ("Started here", "info"),
    "tracked": ("Tracked", "info"),
    "imported": ("Imported", "info"),
}
# Where the same code means something else for a deletion item than for a request.
ITEM_WORDS = {
    "pending": ("Waiting", "idle"),
    "unknown": ("Not known yet", "warn"),
    "sending": ("Being sent", "busy"),
    "not_sent": ("Not sent", "idle"),
    "cancelled": ("Cancelled upstream", "idle"),
}
ACTION_WORDS = {
    "deletion.requested": "Deletion requested",
    "deletion.submitted": "Deletion sent",
    "deletion.rejected": "Deletion refused",
    "deletion.unknown": "Deletion outcome unknown",
    "deletion.ended": "Deletion ended",
    "deletion.undone": "Deletion undone",
    "deletion.paused": "Deletion paused",
    "deletion.resumed": "Deletion resumed",
    "deletion.cancelled": "Deletion cancelled",
    "deletion.stopped": "Deletion stopped on failures",
    "deletion.retried": "Failures retried",
    "deletion.approved": "Deletion approved",
    "deletion.expired": "Deletion expired unapproved",
    "image.restore_requested": "Image restore requested",
    "snapshot.pruned": "Snapshots pruned",
    "operation.tracked": "Operation tracked",
    "operation.untracked": "Operation untracked",
    "operation.imported": "Operations imported",
    "operation.ended": "Operation ended",
    "operation.lost": "Operation lost upstream",
    "login.succeeded": "Logged in",
    "login.failed": "Login failed",
    "user.created": "User created",
    "user.role_changed": "Role changed",
    "user.disabled": "User disabled",
    "user.password_changed": "Password changed",
    "user.sessions_ended": "Sessions ended",
    "token.issued": "API token issued",
    "token.revoked": "API token revoked",
    "token.refused": "API token refused",
    "setup.completed": "First admin created",
    "audit.verified": "Audit chain verified",
    "audit.pruned": "Audit log pruned",
    "policy.created": "Retention policy created",
    "policy.changed": "Retention policy changed",
    "policy.dry_run": "Retention policy dry run",
    "policy.approved": "Retention policy approved",
    "policy.paused": "Retention policy paused",
    "policy.resumed": "Retention policy resumed",
    "policy.run_requested": "Retention policy run requested",
    "policy.ran": "Retention policy ran",
    "policy.*": "Any retention policy event",
    "deletion.*": "Any deletion event",
    "operation.*": "Any operation event",
    "image.*": "Any image event",
    "login.*": "Any login",
    "user.*": "Any user change",
    "token.*": "Any API token event",
    "audit.*": "Any audit check",
}


def word(code: str | None, kind: str = "") -> str:
    """The plain words for a state, outcome or origin code (`kind="item"` for item outcomes)."""
    if not code:
        return ""
    found = (ITEM_WORDS.get(code) if kind == "item" else None) or WORDS.get(code)
    return found[0] if found else code.replace("_", " ").capitalize()


def tone(code: str | None, kind: str = "") -> str:
    """The badge colour of a code: good, bad, warn, busy, idle or info."""
    found = (ITEM_WORDS.get(code or "") if kind == "item" else None) or WORDS.get(code or "")
    return found[1] if found else "info"


def badge(code: str | None, kind: str = "") -> Markup:
    """A coloured badge with the plain words; the code stays in data-state for scripts/tests."""
    if not code:
        return Markup("")
    return Markup('<span class="badge tone-{} state-{}" data-state="{}">{}</span>').format(
        tone(code, kind), code, code, word(code, kind)
    )


# How the ids of a deletion were chosen (its selection_kind), with their count; a "single"
# request of several ids (an old client's default) is told as the list it is.
SELECTION_WORDS = {
    "single": "One image",
    "list": "{ids} given",
    # Ticks survive new searches: the formula is only the one on screen when sent.
    "ticked": "{images} ticked on the images page (last search: {query})",
    "query": "Every image matching {query} ({images})",
}


def selection_words(kind: str | None, count: int, query: str | None) -> Markup:
    """ "3 ids given", "Every image matching <code>t~car</code> (40 images)"…"""
    if kind == "query" and query:
        key = "query"
    elif query:
        key = "ticked"
    else:
        key = "single" if count == 1 else "list"
    plural = "" if count == 1 else "s"
    return Markup(escape(SELECTION_WORDS[key])).format(
        ids=f"{count:,} id{plural}",
        images=f"{count:,} image{plural}",
        query=Markup("<code>{}</code>").format(query or ""),
    )


def action_word(action: str | None) -> str:
    """ "deletion.requested" -> "Deletion requested" (unknown actions readable too)."""
    if not action:
        return ""
    return ACTION_WORDS.get(action) or action.replace(".", " ").replace("_", " ").capitalize()


def op_state_choices() -> list[tuple[str, str]]:
    """(code, words) for every operation state, for filter menus."""
    return [(state, word(state)) for state in OP_STATES]


def local_time(value: datetime | None, missing: str = "—") -> Markup:
    """A <time> element: app.js shows it in the browser's zone plus "3 min ago", UTC on hover.

    The server's text (UTC) is what a reader without JavaScript sees; fragments swapped in
    later are rendered the same way and localised by app.js after each swap.
    """
    if value is None:
        return Markup(escape(missing))
    utc_text = value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time class="local-time" datetime="{}" title="{}">{}</time>').format(
        value.isoformat(), utc_text, utc_text
    )


def duration_ms(value: float | None) -> str:
    """Milliseconds in words: "350 ms", "12 s", "1 min 20 s", "2 h 5 min"."""
    if value is None:
        return "—"
    seconds = value / 1000.0
    if seconds < 1:
        return f"{value:.0f} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def eta_words(seconds: float | None) -> str | None:
    """ "about 1 min 20 s left", or None when unknown or under a second (not worth showing)."""
    if seconds is None or seconds < 1:
        return None
    return f"about {duration_ms(seconds * 1000)} left"


@dataclass(frozen=True)
class Bar:
    """A stacked progress bar: good, bad and muted (cancelled before it ran: neither good nor
    bad, drawn grey) out of total, with whole-percent widths for CSS."""

    total: int
    good: int
    bad: int
    muted: int = 0

    @property
    def done(self) -> int:
        """Elements processed so far (never more than the total, when there is one)."""
        done = self.good + self.bad + self.muted
        return min(done, self.total) if self.total else done

    @property
    def widths(self) -> tuple[int, int, int]:
        """Whole percents of good, bad and muted; they add up to the rounded percent done."""
        if self.total <= 0:
            return 0, 0, 0
        good = min(100, round(100 * self.good / self.total))
        bad = max(0, min(100, round(100 * (self.good + self.bad) / self.total)) - good)
        return good, bad, max(0, min(100, round(100 * self.done / self.total)) - good - bad)


def bar_of(source: Any, cancelled: bool | None = None) -> Bar:
    """A Bar from anything with total/good/bad (a Progress) or num_total/num_good/num_bad; the
    elements of an operation cancelled upstream before it ran are muted, not bad."""
    if hasattr(source, "num_total"):
        total, good, bad = source.num_total or 0, source.num_good or 0, source.num_bad or 0
    else:
        total, good, bad = source.total or 0, source.good or 0, source.bad or 0
    if cancelled is None:
        cancelled = getattr(source, "state", None) == "cancelled"
    return Bar(total, good, 0, bad) if cancelled else Bar(total, good, bad)


def deletion_bar(deletion: Any) -> Bar:
    """Progress of a deletion request over all its operations (nothing done before sending)."""
    bars = [bar_of(op) for op in deletion.operations]
    total = max(deletion.item_count or 0, sum(bar.total for bar in bars))
    return Bar(
        total,
        sum(bar.good for bar in bars),
        sum(bar.bad for bar in bars),
        sum(bar.muted for bar in bars),
    )


def card_token(deletion: Any | None, item: Any | None) -> str:
    """What an image card's state shows, as a short digest ("none": no deletion shown); the
    grid's watcher (views/images.py) swaps a card whose digest is no longer the current one."""
    if deletion is None:
        return "none"
    ops = ",".join(
        f"{op.op_id}:{op.state}:{op.num_good}:{op.num_bad}:{op.num_total}"
        for op in deletion.operations
    )
    parts = [deletion.id, deletion.state, deletion.message, ops]
    if item is not None:
        parts += [item.image_id, item.outcome, item.message, item.op_id, item.settled_at]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
