"""The stored images: lookup by id, default order, and applying one element of an operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .narrowing import IdHint, candidates
from .operations import Element
from .records import ImageRecord, blank_image, computed_values, default_order, make_record

_COMPUTED = ("width", "height", "n_faces")
Analysis = tuple[Any, Any, Any]  # width, height, n_faces


class ImageStore:
    """Images keyed by id; not locked itself: the sandbox state calls it with its lock held.

    The default order is rebuilt lazily after writes instead of being kept sorted on every
    write: keeping a sorted list costs O(n) per removed image, which made a 10,000-id delete
    over 100,000 images quadratic. Rebuilding is one near-linear sort of an almost sorted list.
    """

    def __init__(self, records: dict[str, ImageRecord]) -> None:
        self._records = records
        self._ordered: list[ImageRecord] | None = None
        # The fake AI analysis of sources whose image was removed or given another source:
        # re-adding the same source (a restore) must give back the same computed values.
        self._analysis: dict[str, Analysis] = {}

    def __len__(self) -> int:
        return len(self._records)

    def get(self, image_id: str) -> ImageRecord | None:
        """The stored image or None."""
        return self._records.get(image_id)

    def ordered(self) -> list[ImageRecord]:
        """All images in default order (id ascending); the list must not be modified."""
        if self._ordered is None:
            self._ordered = sorted(self._records.values(), key=default_order)
        return self._ordered

    def candidates(self, ids: IdHint | None) -> list[ImageRecord]:
        """The images a formula allowing `ids` can match, in default order (all for None)."""
        if ids is None:
            return self.ordered()
        return candidates(ids, self._records, self.ordered())

    def apply(
        self, kind: str, element: Element, strict: bool, fails: Callable[[], bool]
    ) -> str | None:
        """Apply one element of a `kind` operation; return the error message or None when good.

        `fails` draws the simulated failure; it is only called for an element that would apply.
        """
        old = self._records.get(element.image_id)
        if kind == "add":
            if old is not None and strict:
                return "image already exists"
        elif old is None:
            # Strict fails on a missing id; relaxed mode ignores it, counted good (§7 #5, #8).
            return "image not found" if strict else None
        if fails():
            return "simulated failure"
        if kind == "del":
            assert old is not None
            self._forget_analysis_of(old)
            del self._records[element.image_id]
        else:
            data = self._new_data(kind, element, old)
            if old is not None and old.data["src"] != data["src"]:
                self._forget_analysis_of(old)
            self._records[element.image_id] = make_record(data)
        self._ordered = None
        return None

    def _forget_analysis_of(self, record: ImageRecord) -> None:
        """Remember the computed values of an image's source before the image goes away."""
        src = record.data["src"]
        if src:
            data = record.data
            self._analysis[src] = (data["width"], data["height"], data["n_faces"])

    def _new_data(self, kind: str, element: Element, old: ImageRecord | None) -> dict[str, Any]:
        """The full Image after add (upsert = replace), put (replace) or patch (merge)."""
        payload = element.payload or {}
        if kind == "patch" and old is not None:
            data = {**old.data, **payload}
        else:
            data = {**blank_image(element.image_id), **payload}
        src = data["src"]
        if old is not None and old.data["src"] == src:
            # Same source, same AI analysis: keep the computed values of the stored image.
            data.update({name: old.data[name] for name in _COMPUTED})
        elif src in self._analysis:
            data.update(zip(_COMPUTED, self._analysis[src], strict=True))
        else:
            data.update(computed_values(src))
        data["image_id"] = element.image_id
        return data
