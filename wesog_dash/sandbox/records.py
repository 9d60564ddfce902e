"""The Image object of the reference (§4) and the derived values the sandbox searches on."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

# Output fields in the order of §4.1; also the allowed values of `fields`.
IMAGE_FIELDS: tuple[str, ...] = (
    "image_id",
    "src",
    "url_img_watermark",
    "url_img_thumbnail",
    "title",
    "headline",
    "caption",
    "alt_text",
    "ai_generated",
    "model_release",
    "property_release",
    "nsfw",
    "status",
    "date",
    "location",
    "city",
    "country",
    "event",
    "author",
    "provider",
    "shot",
    "scene",
    "technique",
    "medium",
    "keywords",
    "categories",
    "collections",
    "height",
    "width",
    "n_faces",
)
BOOL_FIELDS = frozenset({"ai_generated", "model_release", "property_release", "nsfw"})
LIST_FIELDS = frozenset({"keywords", "categories", "collections"})
COMPUTED_FIELDS = frozenset({"image_id", "height", "width", "n_faces"})
# Accepted in POST/PUT/PATCH bodies (§4.2): everything except the id and computed values.
INPUT_FIELDS = frozenset(IMAGE_FIELDS) - COMPUTED_FIELDS
STRING_FIELDS = INPUT_FIELDS - BOOL_FIELDS - LIST_FIELDS

_WORD_RE = re.compile(r"\w+")
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
IMAGE_SIZES = (
    (6000, 4000),
    (4000, 6000),
    (5472, 3648),
    (3648, 5472),
    (4032, 3024),
    (3024, 4032),
    (3000, 3000),
    (1920, 1080),
    (1080, 1920),
    (2048, 1536),
)


def words(text: str | None) -> set[str]:
    """Split text into case-folded words."""
    return {w.casefold() for w in _WORD_RE.findall(text or "")}


@lru_cache(maxsize=1 << 16)
def _word_set(text: str) -> frozenset[str]:
    # Cached: seeded headlines, captions and keyword lists repeat a lot, and splitting them
    # dominated the time to seed 100,000 images.
    return frozenset(words(text))


def parse_date(text: str) -> dt.date | None:
    """Parse `YEAR-M-D` (single-digit month/day allowed); None when invalid."""
    match = _DATE_RE.match(text.strip())
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def canonical_int(image_id: str) -> int | None:
    """Return the id as an int when it is a canonical decimal ("123", not "0123")."""
    if image_id.isascii() and image_id.isdigit() and (image_id == "0" or image_id[0] != "0"):
        return int(image_id)
    return None


def default_order(record: ImageRecord) -> tuple[int, int, str]:
    """The sort key of the default order (`sorted(records, key=default_order)`)."""
    return record.sort_key


def id_sort_key(image_id: str) -> tuple[int, int, str]:
    """Default order: numeric ids numerically first, then the others as strings."""
    number = canonical_int(image_id)
    return (0, number, image_id) if number is not None else (1, 0, image_id)


def blank_image(image_id: str) -> dict[str, Any]:
    """Return an Image with every field null except its id."""
    data: dict[str, Any] = dict.fromkeys(IMAGE_FIELDS)
    data["image_id"] = image_id
    return data


def computed_values(src: str | None) -> dict[str, int | None]:
    """Fake the AI-computed width/height/n_faces deterministically from `src`."""
    if not src:
        return {"width": None, "height": None, "n_faces": None}
    digest = hashlib.sha256(src.encode()).digest()
    width, height = IMAGE_SIZES[digest[0] % len(IMAGE_SIZES)]
    return {"width": width, "height": height, "n_faces": digest[1] % 4}


@dataclass(frozen=True, slots=True)
class TextIndex:
    """Values derived from an image's metadata for filters, similarity and facets."""

    date: dt.date | None
    title_words: frozenset[str]
    headline_words: frozenset[str]
    words: frozenset[str]
    keywords: frozenset[str]
    categories: frozenset[str]
    collections: frozenset[str]
    distinct: dict[str, tuple[str, ...]]  # list fields without repeats, for facet counts


def _folded(values: Iterable[str] | None) -> frozenset[str]:
    return frozenset(v.casefold() for v in values or ())


def _text_index(data: dict[str, Any]) -> TextIndex:
    title_words = _word_set(data.get("title") or "")
    headline_words = _word_set(data.get("headline") or "")
    keywords = data.get("keywords") or ()
    # Words never span a space, so the words of the joined keywords are those of each keyword.
    all_words = (
        title_words
        | headline_words
        | _word_set(data.get("caption") or "")
        | _word_set(" ".join(keywords))
    )
    return TextIndex(
        date=parse_date(data["date"]) if data.get("date") else None,
        title_words=title_words,
        headline_words=headline_words,
        words=all_words,
        keywords=_folded(keywords),
        categories=_folded(data.get("categories")),
        collections=_folded(data.get("collections")),
        distinct={name: tuple(dict.fromkeys(data.get(name) or ())) for name in LIST_FIELDS},
    )


class ImageRecord:
    """A stored image (never modified once built) plus values precomputed for fast search.

    The text values (`TextIndex`) are derived on first use: they cost most of the time to
    build a record, and seeding 100,000 images should not pay for searches never made.
    """

    __slots__ = ("_text", "data", "id_num", "orientation", "ratio", "sort_key", "thumb_path")

    def __init__(self, data: dict[str, Any]) -> None:
        image_id = data["image_id"]
        for name in LIST_FIELDS:
            # Tuples of strings (JSON arrays all the same) and then the dict holding them leave
            # the garbage collector's watch after one full collection: with lists, every full
            # collection rescanned 100,000 stored images (over a second on a busy machine).
            if isinstance(data[name], list):
                data[name] = tuple(data[name])
        self.data = data
        self.sort_key = id_sort_key(image_id)
        self.id_num = self.sort_key[1] if self.sort_key[0] == 0 else None
        width, height = data.get("width"), data.get("height")
        self.ratio = width / height if width and height else None
        self.orientation = _orientation(width, height) if width and height else None
        self.thumb_path = f"thumbs/{quote(image_id, safe='')}.svg"  # relative to the root
        self._text: TextIndex | None = None

    @property
    def image_id(self) -> str:
        """The image id."""
        return self.data["image_id"]

    @property
    def text(self) -> TextIndex:
        """The derived search values (built once; a race only builds them twice)."""
        text = self._text
        if text is None:
            text = self._text = _text_index(self.data)
        return text

    @property
    def date(self) -> dt.date | None:
        """The `date` field as a date."""
        return self.text.date

    @property
    def words(self) -> frozenset[str]:
        """Words of title, headline, caption and keywords (for `t~`)."""
        return self.text.words

    @property
    def keywords(self) -> frozenset[str]:
        """Case-folded keywords."""
        return self.text.keywords

    @property
    def categories(self) -> frozenset[str]:
        """Case-folded categories."""
        return self.text.categories

    @property
    def collections(self) -> frozenset[str]:
        """Case-folded collections."""
        return self.text.collections


def _orientation(width: int, height: int) -> str:
    return "square" if width == height else "landscape" if width > height else "portrait"


def make_record(data: dict[str, Any]) -> ImageRecord:
    """Wrap a full Image dict (all 30 fields) into a searchable record; it takes `data` over."""
    return ImageRecord(data)
