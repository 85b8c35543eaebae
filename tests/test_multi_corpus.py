"""The training reader over several converted corpora."""
from collections import Counter
from pathlib import Path

import pytest
from spacy.language import Language
from spacy.tokens import DocBin

from spacy_biobert.corpora.multi import create_multi_corpus
from spacy_biobert.extensions import install_extensions


def write_corpus(nlp: Language, path: Path, corpus: str, n: int) -> Path:
    install_extensions()
    db = DocBin(store_user_data=True)
    for i in range(n):
        doc = nlp.make_doc(f"{corpus} document {i} .")
        doc._.corpus = corpus
        db.add(doc)
    db.to_disk(path)
    return path


def test_reads_every_file_keeps_corpus_names_and_repeats(nlp: Language, tmp_path: Path) -> None:
    a = write_corpus(nlp, tmp_path / "a.spacy", "bc5cdr", 3)
    b = write_corpus(nlp, tmp_path / "b.spacy", "bc2gm", 4)
    once = Counter(eg.reference._.corpus for eg in create_multi_corpus(f"{a} {b}")(nlp))
    assert once == {"bc5cdr": 3, "bc2gm": 4}
    twice = list(create_multi_corpus(f"{a},{b}", repeat={"bc5cdr": 2})(nlp))
    assert Counter(eg.reference._.corpus for eg in twice) == {"bc5cdr": 6, "bc2gm": 4}
    texts = Counter(eg.reference.text for eg in twice if eg.reference._.corpus == "bc5cdr")
    assert set(texts.values()) == {2}
    limited = list(create_multi_corpus([str(a), str(b)], limit_per_corpus=2)(nlp))
    assert Counter(eg.reference._.corpus for eg in limited) == {"bc5cdr": 2, "bc2gm": 2}


def test_bad_paths_and_repeats_are_clear_errors(nlp: Language, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing.spacy: corpus file not found"):
        create_multi_corpus(str(tmp_path / "missing.spacy"))
    with pytest.raises(ValueError, match="no corpus paths"):
        create_multi_corpus("  ")
    a = write_corpus(nlp, tmp_path / "a.spacy", "bc5cdr", 1)
    with pytest.raises(ValueError, match="repeat counts"):
        create_multi_corpus(str(a), repeat={"bc5cdr": 0})


def test_repeat_of_a_corpus_that_is_not_there_is_an_error(nlp: Language, tmp_path: Path) -> None:
    a = write_corpus(nlp, tmp_path / "a.spacy", "bc5cdr", 2)
    reader = create_multi_corpus(str(a), repeat={"bc5dcr": 2, "bc5cdr": 3})
    examples = reader(nlp)
    with pytest.raises(ValueError, match=r"repeat names \['bc5dcr'\].*corpora seen: bc5cdr"):
        next(examples)  # before the first example, not after the last
    assert len(list(create_multi_corpus(str(a), repeat={"bc5cdr": 3})(nlp))) == 6
