"""How values look on a page: times in the reader's zone, durations, stacked progress bars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape


def local_time(value: datetime | None, missing: str = "—") -> Markup:
    """A <time> element: JavaScript shows it in the browser's zone, UTC on hover."""
    if value is None:
        return Markup(escape(missing))
    utc_text = value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time class="local-time" datetime="{}" title="{}">{}</time>').format(
        value.isoformat(), utc_text, utc_text
    )


def duration_ms(value: float | None) -> str:
    """Milliseconds as a short human duration."""
    if value is None:
        return "—"
    seconds = value / 1000.0
    if seconds < 1:
        return f"{value:.0f} ms"
    if seconds < 90:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 90:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@dataclass(frozen=True)
class Bar:
    """A stacked progress bar: good and bad out of total, with whole-percent widths for CSS."""

    total: int
    good: int
    bad: int

    @property
    def done(self) -> int:
        """Elements processed so far (never more than the total, when there is one)."""
        done = self.good + self.bad
        return min(done, self.total) if self.total else done

    @property
    def widths(self) -> tuple[int, int]:
        """Whole percents of good and bad; they add up to the rounded percent done."""
        if self.total <= 0:
            return 0, 0
        good = min(100, round(100 * self.good / self.total))
        return good, max(0, min(100, round(100 * self.done / self.total)) - good)


def bar_of(source: Any) -> Bar:
    """A Bar from anything with total/good/bad (a Progress) or num_total/num_good/num_bad."""
    if hasattr(source, "num_total"):
        return Bar(source.num_total or 0, source.num_good or 0, source.num_bad or 0)
    return Bar(source.total or 0, source.good or 0, source.bad or 0)


def deletion_bar(deletion: Any) -> Bar:
    """Progress of a deletion request over all its operations (nothing done before sending)."""
    ops = list(deletion.operations)
    total = max(deletion.item_count or 0, sum(op.num_total or 0 for op in ops))
    return Bar(total, sum(op.num_good or 0 for op in ops), sum(op.num_bad or 0 for op in ops))
