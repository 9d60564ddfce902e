"""Words for counts, shared by the pages, the API's messages and the CLI ("1 image", "2 images")."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """`word` for one, its plural (`many`, else `word`+s) for any other count."""
    return word if count == 1 else (many or f"{word}s")


def counted(count: int, word: str, many: str | None = None) -> str:
    """A count with its word: "1 image", "1,000 images"."""
    return f"{count:,} {plural(count, word, many)}"
