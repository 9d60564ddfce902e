"""Ids pasted from a ticket or a spreadsheet: split, de-duplicated and checked one by one, so
that the confirmation can say exactly what will be sent, what was dropped and why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .outbox import id_problem

# New lines, commas, semicolons, tabs and spaces all separate pasted ids.
SEPARATORS = re.compile(r"[\s,;]+")


@dataclass
class Review:
    """Ids to send (valid, each once, in order), how many duplicates were dropped, and the
    invalid ones with why (never sent, never blocking the valid ones)."""

    ids: list[str] = field(default_factory=list)
    duplicates: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)


def split_pasted(text: str) -> list[str]:
    """The ids in pasted text, in order (separators: new lines, commas, semicolons, tabs,
    spaces)."""
    return [part for part in SEPARATORS.split(text or "") if part]


def review_ids(candidates: list[str]) -> Review:
    """Sort candidates into ids to send, duplicates dropped and invalid ids with the reason."""
    review, seen = Review(), set()
    for image_id in candidates:
        if image_id in seen:
            review.duplicates += 1
            continue
        seen.add(image_id)
        problem = id_problem(image_id)
        if problem:
            review.invalid.append((image_id, problem))
        else:
            review.ids.append(image_id)
    return review
