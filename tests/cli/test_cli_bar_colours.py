"""The watch bar in a 16-colour terminal: finished, under way and empty look different."""

from __future__ import annotations

import io
import re

from rich.console import Console

from wesog_dash.cli.follow import Rate, Reading
from wesog_dash.cli.watching import Bar

SGR = re.compile(r"\x1b\[([0-9;]*)m━")


def bar_colours(good: int, total: int) -> set[str]:
    """The colour codes the bar's glyphs were drawn in, on a 16-colour terminal."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="standard", width=120)
    bar = Bar(console)
    reading = Reading("deletion", 7, "pending", good, 0, total, None, good == total, None)
    bar.show(reading, Rate())
    bar.close()
    last_frame = out.getvalue().rsplit("\x1b[2K", 1)[-1]  # (the first frame pulses)
    return set(SGR.findall(last_frame))


def test_a_finished_bar_is_not_grey_like_an_empty_one() -> None:
    empty, half, finished = bar_colours(0, 10), bar_colours(5, 10), bar_colours(10, 10)
    assert empty == {"90"}  # bright black: the empty track
    assert finished == {"32"}  # green
    assert "36" in half and "90" in half  # cyan done, grey to go
