"""What we accept as an image id before anything is sent upstream."""

from __future__ import annotations

import unicodedata

MAX_IMAGE_ID_LENGTH = 256


def image_id_problem(image_id: str) -> str | None:
    """Why `image_id` cannot be sent as one URL path segment, or None when it can."""
    if not image_id or not image_id.strip():
        return "an image id cannot be empty"
    if len(image_id) > MAX_IMAGE_ID_LENGTH:
        return f"an image id is at most {MAX_IMAGE_ID_LENGTH} characters"
    if "/" in image_id:
        return "an image id cannot contain '/'"
    if image_id in (".", ".."):
        # HTTP clients normalise these path segments away: /imgs/.. would become /.
        return "an image id cannot be '.' or '..'"
    if any(unicodedata.category(ch) == "Cc" for ch in image_id):
        return "an image id cannot contain control characters"
    return None
