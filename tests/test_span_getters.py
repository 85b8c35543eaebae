"""Balanced transformer windows: coverage, overlap, sizes, bad settings."""
from typing import List

import pytest
import spacy

from spacy_biobert.span_getters import balanced_windows, configure_balanced_spans


def check(windows: List[range], length: int, window: int, overlap: int) -> None:
    assert windows[0].start == 0 and windows[-1].stop == length
    assert all(len(w) <= window for w in windows)
    assert max(len(w) for w in windows) - min(len(w) for w in windows) <= 1
    for left, right in zip(windows, windows[1:]):
        assert left.start < right.start
        assert left.stop - right.start >= overlap  # no gap, at least `overlap` shared


@pytest.mark.parametrize("window,overlap", [(160, 32), (128, 0), (10, 9), (2, 1)])
def test_windows_cover_every_length(window: int, overlap: int) -> None:
    for length in range(1, 700, 7):
        windows = balanced_windows(length, window, overlap)
        check(windows, length, window, overlap)
        # The fewest windows: one window fewer could not cover the text.
        fewer = len(windows) - 1
        if fewer:
            assert fewer * window - (fewer - 1) * overlap < length


def test_abstract_length_gets_two_even_windows() -> None:
    assert balanced_windows(232, 160, 32) == [range(0, 132), range(100, 232)]
    assert balanced_windows(160, 160, 32) == [range(0, 160)]
    assert balanced_windows(0, 160, 32) == []


def test_registered_getter_returns_spans() -> None:
    nlp = spacy.blank("en")
    docs = [nlp("one two three four five six seven"), nlp("")]
    get_spans = spacy.registry.get("span_getters", "spacy-biobert.balanced_spans.v1")(
        window=4, overlap=1
    )
    spans = get_spans(docs)
    assert [[(s.start, s.end) for s in doc_spans] for doc_spans in spans] == [
        [(0, 4), (3, 7)],
        [],
    ]


@pytest.mark.parametrize("window,overlap", [(0, 0), (8, 8), (8, -1), (8.0, 2), (True, 0)])
def test_bad_settings_name_the_option(window, overlap) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="balanced_spans"):
        configure_balanced_spans(window=window, overlap=overlap)
