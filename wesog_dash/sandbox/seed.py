"""Deterministic demo images with varied, realistic metadata (no network, no files)."""

from __future__ import annotations

import datetime as dt
import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from .records import IMAGE_FIELDS, IMAGE_SIZES, ImageRecord, make_record

FIRST_ID = 100001
# (subject phrase, keywords, category, people in the picture?)
_SUBJECTS: tuple[tuple[str, tuple[str, ...], str, bool], ...] = (
    ("red car", ("car", "red", "vehicle", "street"), "Transport", False),
    ("golden retriever", ("dog", "pet", "animal", "retriever"), "Animals", False),
    ("tabby cat", ("cat", "pet", "animal"), "Animals", False),
    ("football match", ("football", "stadium", "ball", "crowd"), "Sport", True),
    ("tennis player", ("tennis", "racket", "athlete"), "Sport", True),
    ("marathon runners", ("running", "marathon", "athlete", "crowd"), "Sport", True),
    ("fashion model", ("fashion", "model", "runway", "style"), "Fashion", True),
    ("street market", ("market", "fruit", "vendor", "street"), "Travel", True),
    ("mountain lake", ("mountain", "lake", "water", "landscape"), "Nature", False),
    ("sunset over the river", ("sunset", "river", "sky", "water"), "Nature", False),
    ("snowy forest", ("snow", "forest", "tree", "winter"), "Nature", False),
    ("city skyline", ("skyline", "city", "building", "night"), "Architecture", False),
    ("old cathedral", ("cathedral", "church", "architecture", "history"), "Architecture", False),
    ("plate of pasta", ("pasta", "food", "dinner", "italian"), "Food", False),
    ("coffee cup", ("coffee", "cup", "cafe", "breakfast"), "Food", False),
    ("politician at a podium", ("politics", "speech", "podium", "election"), "Politics", True),
    ("protest march", ("protest", "crowd", "banner", "street"), "Politics", True),
    ("rock concert", ("concert", "music", "guitar", "stage"), "Entertainment", True),
    ("film premiere", ("premiere", "cinema", "red carpet", "celebrity"), "Entertainment", True),
    ("laboratory scientist", ("science", "laboratory", "research"), "Science", True),
    ("wind turbines", ("wind", "energy", "turbine", "renewable"), "Science", False),
    ("business meeting", ("business", "office", "meeting", "team"), "Business", True),
    ("children playing", ("children", "playground", "family", "ball"), "Lifestyle", True),
    ("surfer on a wave", ("surf", "wave", "ocean", "beach"), "Sport", True),
    ("sandy beach", ("beach", "sand", "sea", "summer"), "Travel", False),
    ("vintage bicycle", ("bicycle", "vintage", "street"), "Transport", False),
    ("airplane at dusk", ("airplane", "airport", "sky", "travel"), "Transport", False),
    ("street art mural", ("mural", "graffiti", "art", "wall"), "Culture", False),
    ("museum gallery", ("museum", "painting", "art", "visitors"), "Culture", True),
    ("wedding couple", ("wedding", "couple", "love", "ceremony"), "Lifestyle", True),
)
_ADJECTIVES = (
    "Bright",
    "Quiet",
    "Busy",
    "Colourful",
    "Misty",
    "Dramatic",
    "Calm",
    "Vivid",
    "Golden",
    "Rainy",
    "Crowded",
    "Peaceful",
)
_TIMES = ("at dawn", "in the morning", "at noon", "in the afternoon", "at dusk", "at night")
# (city, country, landmarks for the `location` field)
_PLACES = (
    ("New York", "United States", ("Central Park", "Times Square", "Brooklyn Bridge")),
    ("Madrid", "Spain", ("Puerta del Sol", "Retiro Park", "Gran Vía")),
    ("Barcelona", "Spain", ("La Rambla", "Sagrada Família", "Barceloneta")),
    ("Lisbon", "Portugal", ("Alfama", "Belém Tower", "Praça do Comércio")),
    ("Paris", "France", ("Eiffel Tower", "Montmartre", "Louvre")),
    ("London", "United Kingdom", ("Tower Bridge", "Camden Market", "Hyde Park")),
    ("Berlin", "Germany", ("Brandenburg Gate", "Kreuzberg", "Museum Island")),
    ("Tokyo", "Japan", ("Shibuya Crossing", "Asakusa", "Shinjuku")),
    ("Mexico City", "Mexico", ("Zócalo", "Chapultepec", "Coyoacán")),
    ("Buenos Aires", "Argentina", ("La Boca", "Plaza de Mayo", "Palermo")),
    ("São Paulo", "Brazil", ("Paulista Avenue", "Ibirapuera Park", "Liberdade")),
    ("Sydney", "Australia", ("Opera House", "Bondi Beach", "Harbour Bridge")),
    ("Cape Town", "South Africa", ("Table Mountain", "Waterfront", "Bo-Kaap")),
    ("Moscow", "Russia", ("Red Square", "Arbat Street", "Gorky Park")),
)
_EVENTS = (
    "Oscar awards",
    "Champions League final",
    "Fashion Week",
    "Carnival",
    "Tech Summit",
    "Film Festival",
    "City Marathon",
    "Election night",
    "Climate Conference",
    "Music Awards",
)
_AUTHORS = (
    "Jane Doe",
    "Carlos Ruiz",
    "Ana Souza",
    "Pierre Martin",
    "Olga Ivanova",
    "Kenji Sato",
    "Amelia Brown",
    "Lucía Fernández",
    "Tom Becker",
    "Nadia Khan",
)
_PROVIDERS = (
    "Acme Inc.",
    "Global Press Photos",
    "Iberia Images",
    "Northlight Agency",
    "Pixel Wire",
)
_COLLECTIONS = (
    "Street pics",
    "Exclusive",
    "Editorial",
    "Archive",
    "Best of the year",
    "Staff picks",
)
_SHOTS = ("Portrait", "Close-up", "Wide shot", "Medium shot", "Aerial", "Overhead")
_SCENES = ("Town square", "Stadium", "Studio", "Beach", "Park", "Office", "Street", "Stage")
_TECHNIQUES = ("Photography", "Long exposure", "HDR", "Black and white", "Drawing")
_MEDIUMS = ("Digital", "35mm film", "Medium format film", "Oil on canvas", "Watercolour")
_STATUSES = ("Active",) * 14 + ("Withdrawn", "Reserved", "RDA Only")
_BIG_SEED = 10_000
_START = dt.date(2015, 1, 1)
_DAYS = (dt.date(2026, 12, 31) - _START).days


def demo_src(image_id: str) -> str:
    """URL of the (imaginary) source file of a demo image."""
    return f"https://images.example.com/demo/{image_id}.jpg"


def _maybe(rng: random.Random, probability: float, value: Any) -> Any:
    return value if rng.random() < probability else None


def demo_image(image_id: str, rng: random.Random) -> dict[str, Any]:
    """Build one demo Image (all 30 fields) from the random generator."""
    subject, keywords, category, people = rng.choice(_SUBJECTS)
    city, country, landmarks = rng.choice(_PLACES)
    date = _START + dt.timedelta(days=rng.randrange(_DAYS + 1))
    ai_generated = rng.random() < 0.15
    adjective, when = rng.choice(_ADJECTIVES), rng.choice(_TIMES)
    event = _maybe(rng, 0.3, f"{rng.choice(_EVENTS)} {date.year}")
    width, height = rng.choice(IMAGE_SIZES)
    extra = rng.sample(("people", "colour", "outdoor", "urban", "summer", "travel"), 2)
    caption = f"{adjective} scene: a {subject} photographed {when} in {city}, {country}." + (
        f" Taken during the {event}." if event else ""
    )
    image = {
        "image_id": image_id,
        "src": demo_src(image_id),
        "url_img_watermark": f"https://images.example.com/demo/{image_id}_wm.jpg",
        "url_img_thumbnail": None,  # filled at response time with the sandbox's own URL
        "title": f"{subject.capitalize()} {image_id}",
        "headline": f"{adjective} {subject} in {city}",
        "caption": caption,
        "alt_text": f"Photo of a {subject} in {city}",
        "ai_generated": ai_generated,
        "model_release": people and rng.random() < 0.6,
        "property_release": _maybe(rng, 0.8, rng.random() < 0.5),
        "nsfw": rng.random() < 0.03,
        "status": rng.choice(_STATUSES),
        "date": date.isoformat(),
        "location": f"{rng.choice(landmarks)}, {city}",
        "city": city,
        "country": country,
        "event": event,
        "author": "Synthetic Studio" if ai_generated else rng.choice(_AUTHORS),
        "provider": rng.choice(_PROVIDERS),
        "shot": rng.choice(_SHOTS),
        "scene": rng.choice(_SCENES),
        "technique": "AI generation" if ai_generated else rng.choice(_TECHNIQUES),
        "medium": "Digital" if ai_generated else rng.choice(_MEDIUMS),
        "keywords": [*keywords, *extra, city.lower()],
        "categories": sorted({category, rng.choice(("News", "Lifestyle", "Travel", "Culture"))}),
        "collections": rng.sample(_COLLECTIONS, rng.randint(0, 2)),
        "height": height,
        "width": width,
        "n_faces": rng.randint(1, 6) if people else 0,
    }
    return {name: image[name] for name in IMAGE_FIELDS}


def demo_images(count: int, seed: int) -> list[dict[str, Any]]:
    """Return `count` demo images with ids "100001", "100002", ... deterministic from `seed`."""
    rng = random.Random(seed)
    return [demo_image(str(FIRST_ID + n), rng) for n in range(count)]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects that form no cycles.

    Left running, the collector kept rescanning the growing store while seeding; left paused,
    every object would stay young and the next requests would pay three scans of them (one
    per generation). One full collection at the end moves them all to the old generation.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()


def demo_records(count: int, seed: int) -> dict[str, ImageRecord]:
    """The seeded images as searchable records keyed by id, in default (id) order."""
    rng = random.Random(seed)
    # A small seed is quick either way, and a full collection per test sandbox is not.
    with _gc_paused() if count >= _BIG_SEED else nullcontext():
        records = (make_record(demo_image(str(FIRST_ID + n), rng)) for n in range(count))
        return {record.image_id: record for record in records}
