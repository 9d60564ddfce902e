"""The sandbox answers id searches from its id index, with exactly the answers of a full pass."""

from __future__ import annotations

import random

import pytest

from wesog_dash.sandbox.images import ImageStore
from wesog_dash.sandbox.narrowing import Bounds
from wesog_dash.sandbox.operations import Element
from wesog_dash.sandbox.query import parse_query
from wesog_dash.sandbox.records import ImageRecord, make_record
from wesog_dash.sandbox.search import SearchParams, run_search
from wesog_dash.sandbox.seed import demo_image

# Numeric ids, ids that read as numbers but are stored as text ("07", "7.0"), and words.
IDS = [str(n) for n in range(1, 300)] + ["07", "7.0", "abc", "Zed", "1e2", "-5", "0"]

FORMULAS = [
    "id=7",
    "id=7.0",
    "id=07",
    "id=abc || id=Zed || id=12",
    "id∩3,5,7,9",
    "(id>=41&&id<=60)",
    "id>250",
    "id<3",
    "id>=10 && id<20 && id>15",
    "(id>=41&&id<=45) || (id>=200&&id<=202) || id=abc",
    "id>=100 && id<=50",
    "id>=1e2 && id<=102",
    "id>nan || id<=nan",
    "id>=inf || id<-inf",
    "id<=-5",
    "id>=abc",
    "id=7 && nsfw=true",
    "id=7 || nsfw=true",
    "(id=3 || id=4) && (id>=4 && id<=9)",
    "id>=290 && k=cat",
]


@pytest.fixture(scope="module")
def store() -> ImageStore:
    """Images with every kind of id, in no particular order."""
    return images(list(reversed(IDS)))


def images(ids: list[str]) -> ImageStore:
    """A store of demo images with these ids."""
    rng = random.Random(7)
    return ImageStore({i: make_record(demo_image(i, rng)) for i in ids})


def search(records: list[ImageRecord], formula: str) -> list[str]:
    """The ids a search with `formula` answers, in default order, with the count."""
    query = parse_query(formula)
    params = SearchParams(query, 1, 1000, "", False, True, [], [])
    result = run_search(records, params)
    assert result.count == len(result.page)
    return [record.image_id for record in result.page]


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_index_answers_what_a_pass_over_every_image_answers(
    store: ImageStore, formula: str
) -> None:
    ids = parse_query(formula).ids
    assert search(store.candidates(ids), formula) == search(store.ordered(), formula)


@pytest.mark.parametrize(
    ("formula", "looked_at"),
    [
        ("id=3 || id=abc || id=12", 3),
        ("id∩3,5,7", 3),
        ("(id>=41&&id<=60)", 20 + 6),  # and every non-numeric id, compared as text
        ("id=5 && nsfw=false", 1),
    ],
)
def test_an_id_search_looks_at_its_candidates_only(
    store: ImageStore, formula: str, looked_at: int
) -> None:
    candidates = store.candidates(parse_query(formula).ids)
    assert len(candidates) == looked_at < len(IDS)


def test_a_formula_without_an_id_bound_looks_at_every_image(store: ImageStore) -> None:
    for formula in ("nsfw=true", "id=7 || nsfw=true", "id>=abc", ""):
        assert len(store.candidates(parse_query(formula).ids)) == len(IDS)


def test_a_deleted_image_leaves_the_index(store: ImageStore) -> None:
    changed, formula = images(IDS), "(id>=5&&id<=8) || id=abc"
    before = search(changed.candidates(parse_query(formula).ids), formula)
    for image_id in ("6", "abc"):
        assert changed.apply("del", Element(image_id), True, lambda: False) is None
    after = search(changed.candidates(parse_query(formula).ids), formula)
    # "7.0" is no number to the API: compared as text, it lies between "5" and "8".
    assert (before, after) == (["5", "6", "7", "8", "7.0", "abc"], ["5", "7", "8", "7.0"])
    assert after == search(changed.ordered(), formula)


def test_a_chain_of_ten_thousand_id_bounds_narrows_to_one_interval(store: ImageStore) -> None:
    formula = " && ".join([f"id>{n % 250}" for n in range(10_000)] + ["id<260"])
    ids = parse_query(formula).ids
    assert ids is not None and ids.ranges == (Bounds(249, False, 260, False),)
    found = search(store.candidates(ids), formula)
    assert found == search(store.ordered(), formula) and found[:2] == ["250", "251"]
