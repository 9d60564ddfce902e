"""Words for the upstream API's own names: image fields and operation methods/resources.

Pages show these; exports and the JSON API keep the codes (`url_img_watermark`, `del`).
"""

from __future__ import annotations

from ..wording import plural  # noqa: F401  (the pages' word for counts)

FIELD_WORDS: dict[str, str] = {
    "image_id": "Image id",
    "src": "Source image URL",
    "url_img_watermark": "Watermarked image URL",
    "url_img_thumbnail": "Thumbnail URL",
    "title": "Title",
    "headline": "Headline",
    "caption": "Caption",
    "alt_text": "Text alternative",
    "ai_generated": "Made by AI",
    "model_release": "Model release",
    "property_release": "Property release",
    "nsfw": "Not safe for work",
    "status": "Status",
    "date": "Date",
    "location": "Location",
    "city": "City",
    "country": "Country",
    "event": "Event",
    "author": "Author",
    "provider": "Provider",
    "shot": "Shot",
    "scene": "Scene",
    "technique": "Technique",
    "medium": "Medium",
    "keywords": "Keywords",
    "categories": "Categories",
    "collections": "Collections",
    "height": "Height (pixels)",
    "width": "Width (pixels)",
    "n_faces": "Faces detected",
}
METHOD_WORDS = {"add": "Add", "upd": "Update", "del": "Delete", "multiple": "Several kinds"}
RESOURCE_WORDS = {"image": "images", "video": "videos", "celebs": "celebrities"}


def shown_state(deletion: object) -> str:
    """A deletion's state as its badge tells it: "pending" with chunks already sent is said
    "partly sent" (its operations run while the rest waits)."""
    state = str(getattr(deletion, "state", ""))
    return "partly_sent" if state == "pending" and getattr(deletion, "operations", None) else state


def field_word(name: str | None) -> str:
    """ "n_faces" -> "Faces detected" (an unknown field readable too)."""
    if not name:
        return ""
    return FIELD_WORDS.get(name) or name.replace("_", " ").capitalize()


def method_words(method: str | None, resource: str | None) -> str:
    """("del", "image") -> "Delete images"; unknown parts are said as unknown."""
    verb = METHOD_WORDS.get(method or "", method or "Unknown action")
    noun = RESOURCE_WORDS.get(resource or "", resource or "unknown resource")
    return f"{verb} {noun}"
