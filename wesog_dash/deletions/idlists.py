"""Id lists as people hand them over: a text file or a paste, one image id per line."""

from __future__ import annotations

from .outbox import DeletionInputError


def ids_from_text(data: bytes | str) -> list[str]:
    """The ids of a text list: one per line, surrounding blanks and empty lines ignored."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise DeletionInputError("The id list must be UTF-8 text") from error
    return [line.strip() for line in data.splitlines() if line.strip()]
