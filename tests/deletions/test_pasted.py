"""Pasted ids: every separator splits, duplicates and invalid ids are counted, never sent."""

from __future__ import annotations

import pytest

from wesog_dash.deletions import ids_from_file, ids_from_text, review_ids, split_pasted

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def test_newlines_commas_semicolons_tabs_and_spaces_all_separate_ids() -> None:
    assert split_pasted("a, b c;d\ne") == ["a", "b", "c", "d", "e"]
    assert split_pasted("100008, 100009\t100010;;\r\n\n  ") == ["100008", "100009", "100010"]
    assert split_pasted("") == []


def test_the_review_keeps_valid_ids_once_and_says_why_the_others_are_left_out() -> None:
    review = review_ids(["a", "b", "a", "x/y", "..", "c"])
    assert review.ids == ["a", "b", "c"]
    assert review.duplicates == 1
    assert [image_id for image_id, _ in review.invalid] == ["x/y", ".."]
    assert "'/'" in review.invalid[0][1]


def test_a_pasted_list_and_an_uploaded_txt_file_split_by_the_same_rule() -> None:
    text = "a, b c;d\te\na"
    assert ids_from_text(text) == ["a", "b", "c", "d", "e"]
    assert ids_from_file("ids.txt", text.encode()) == ["a", "b", "c", "d", "e"]
