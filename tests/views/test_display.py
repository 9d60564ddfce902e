"""One word per state, durations in words, ETA shown only when it means something."""

from __future__ import annotations

import pytest

from wesog_dash.views import display


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        ("done_with_errors", "", "Finished with errors"),
        ("finished_with_errors", "", "Finished with errors"),
        ("rejected", "", "Refused"),
        ("pending", "", "Waiting to be sent"),
        ("pending", "item", "Waiting"),
        ("failed", "item", "Not deleted"),
        ("missing", "", "Not found upstream"),
        ("something_new", "", "Something new"),
    ],
)
def test_every_code_has_plain_words(code: str, kind: str, words: str) -> None:
    assert display.word(code, kind) == words
    assert words in display.badge(code, kind) and f'data-state="{code}"' in display.badge(code)


def test_audit_actions_read_as_words() -> None:
    assert display.action_word("deletion.requested") == "Deletion requested"
    assert display.action_word("login.failed") == "Login failed"
    assert display.action_word("brand.new_thing") == "Brand new thing"


@pytest.mark.parametrize(
    ("ms", "words"),
    [
        (350, "350 ms"),
        (4_200, "4.2 s"),
        (42_000, "42 s"),
        (80_000, "1 min 20 s"),
        (120_000, "2 min"),
        (7_500_000, "2 h 5 min"),
        (None, "—"),
    ],
)
def test_durations_in_words(ms: float | None, words: str) -> None:
    assert display.duration_ms(ms) == words


def test_an_eta_under_a_second_is_not_shown() -> None:
    assert display.eta_words(None) is None and display.eta_words(0.4) is None
    assert display.eta_words(80) == "about 1 min 20 s left"


@pytest.mark.parametrize(
    ("kind", "count", "query", "words"),
    [
        ("single", 1, None, "One image"),
        ("single", 3, None, "3 ids given"),  # an old client's default kind, told truthfully
        ("list", 3, None, "3 ids given"),
        ("list", 1, None, "One image"),
        (
            "list",
            11,
            "t~car",
            "11 images ticked on the images page (last search: <code>t~car</code>)",
        ),
        ("query", 1_234, "t~<b>", "Every image matching <code>t~&lt;b&gt;</code> (1,234 images)"),
        ("query", 1, "id=7", "Every image matching <code>id=7</code> (1 image)"),
    ],
)
def test_how_the_ids_were_chosen_reads_as_words(
    kind: str, count: int, query: str | None, words: str
) -> None:
    assert str(display.selection_words(kind, count, query)) == words


def test_a_pending_deletion_with_chunks_sent_is_said_partly_sent() -> None:
    from types import SimpleNamespace

    from wesog_dash.views.words import field_word, method_words, shown_state

    assert shown_state(SimpleNamespace(state="pending", operations=[object()])) == "partly_sent"
    assert shown_state(SimpleNamespace(state="pending", operations=[])) == "pending"
    assert shown_state(SimpleNamespace(state="done", operations=[object()])) == "done"
    assert display.word("partly_sent") == "Partly sent"
    assert method_words("del", "image") == "Delete images" and method_words(None, None)
    assert field_word("n_faces") == "Faces detected" and field_word("new_thing") == "New thing"
