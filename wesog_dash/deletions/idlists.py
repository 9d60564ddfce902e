"""Reading lists of image ids people bring: pasted text (one per line) or an uploaded `.txt`
or `.csv` file (the first column; a header cell `id` or `image_id` is skipped)."""

from __future__ import annotations

import csv
import io

from .outbox import MAX_IDS, DeletionInputError

HEADERS = {"id", "image_id", "image id", "imageid"}
FILE_KINDS = (".txt", ".csv")


def ids_from_text(text: str) -> list[str]:
    """Ids pasted one per line; blank lines dropped, duplicates kept once, order kept."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        if line.strip():
            seen.setdefault(line.strip(), None)
    return list(seen)


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
