"""Small deterministic SVG thumbnails drawn per image id, so demos need no network."""

from __future__ import annotations

import colorsys
import hashlib
import random
import re
from xml.sax.saxutils import escape, quoteattr

_MAX_LABEL = 28  # longer ids are shortened so the label stays inside the picture
# Characters XML 1.0 forbids even when escaped; ids are arbitrary strings, so replace them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _colour(rng: random.Random, lightness: int) -> str:
    """A random hue at the given lightness, as #rrggbb (hsl() is not SVG 1.1)."""
    hue, saturation = rng.randrange(360) / 360, rng.randrange(45, 90) / 100
    red, green, blue = colorsys.hls_to_rgb(hue, lightness / 100, saturation)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def _shapes(rng: random.Random, width: int, height: int) -> list[str]:
    shapes = []
    for _ in range(rng.randint(3, 6)):
        fill, opacity = _colour(rng, rng.randrange(40, 75)), rng.randrange(45, 90) / 100
        x, y = rng.randrange(width), rng.randrange(height)
        size = rng.randrange(min(width, height) // 8, min(width, height) // 2)
        half = size // 2
        kind = rng.choice(("circle", "rect", "triangle"))
        if kind == "circle":
            shape = f'<circle cx="{x}" cy="{y}" r="{half}"'
        elif kind == "rect":
            shape = (
                f'<rect x="{x - half}" y="{y - size // 3}" width="{size}" '
                f'height="{size * 2 // 3}" rx="{size // 10}"'
            )
        else:
            points = f"{x},{y - half} {x + half},{y + half} {x - half},{y + half}"
            shape = f'<polygon points="{points}"'
        shapes.append(f'{shape} fill="{fill}" fill-opacity="{opacity}"/>')
    return shapes


def render_thumbnail(image_id: str, width: int = 320, height: int = 240) -> str:
    """Return an SVG document for `image_id`; the same id always gives the same picture."""
    digest = hashlib.sha256(image_id.encode("utf-8", "surrogatepass")).digest()
    rng = random.Random(digest)
    safe_id = _NOT_XML.sub("\ufffd", image_id)
    label = safe_id if len(safe_id) <= _MAX_LABEL else safe_id[: _MAX_LABEL - 1] + "…"
    top, bottom = _colour(rng, 30), _colour(rng, 55)
    band = height - 30
    gradient = f"g{digest.hex()[:8]}"  # unique per image, in case SVGs get inlined together
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr("Image " + safe_id)}>',
        f"<title>{escape('Image ' + safe_id)}</title>",
        f'<defs><linearGradient id="{gradient}" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/>'
        "</linearGradient></defs>",
        f'<rect width="{width}" height="{height}" fill="url(#{gradient})"/>',
        *_shapes(rng, width, height),
        f'<rect y="{band}" width="{width}" height="30" fill="#000" fill-opacity="0.55"/>',
        f'<text x="{width // 2}" y="{band + 20}" font-family="sans-serif" font-size="15" '
        f'fill="#fff" text-anchor="middle">{escape(label)}</text>',
        "</svg>",
    ]
    return "\n".join(parts)


def thumbnail_size(width: int | None, height: int | None) -> tuple[int, int]:
    """Thumbnail size (longest side 320) keeping the image's orientation; 4:3 when unknown."""
    if not width or not height:
        return 320, 240
    if width >= height:
        return 320, max(1, round(320 * height / width))
    return max(1, round(320 * width / height)), 320
