"""Reading lists of image ids people bring: pasted text or an uploaded `.txt` file (split by the
one rule of `pasted.split_pasted`: new lines, commas, semicolons, tabs, spaces) or a `.csv`
file (the first column; a header cell `id` or `image_id` is skipped)."""

from __future__ import annotations

import csv
import io

from .outbox import MAX_IDS, DeletionInputError
from .pasted import split_pasted

HEADERS = {"id", "image_id", "image id", "imageid"}
FILE_KINDS = (".txt", ".csv")


def ids_from_text(text: str) -> list[str]:
    """Ids in pasted text (see `split_pasted`); duplicates kept once, order kept."""
    return list(dict.fromkeys(split_pasted(text)))


def ids_from_file(filename: str, data: bytes) -> list[str]:
    """Ids of an uploaded file; DeletionInputError when it cannot be read as such."""
    name = (filename or "").lower()
    if not name.endswith(FILE_KINDS):
        raise DeletionInputError("Upload a .txt file (one id per line) or a .csv file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DeletionInputError("The file is not UTF-8 text") from None
    if name.endswith(".txt"):
        return ids_from_text(text)
    return _first_column(text)


def _first_column(text: str) -> list[str]:
    seen: dict[str, None] = {}
    try:
        for index, row in enumerate(csv.reader(io.StringIO(text))):
            cell = row[0].strip() if row else ""
            if not cell or (index == 0 and cell.lower() in HEADERS):
                continue
            seen.setdefault(cell, None)
            if len(seen) > MAX_IDS:
                break  # enough to refuse it with the right message
    except csv.Error as exc:
        raise DeletionInputError(f"The CSV file cannot be read: {exc}") from None
    return list(seen)
