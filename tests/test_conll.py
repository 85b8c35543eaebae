"""Token-per-line IOB reader (BC2GM, LINNAEUS): grouping, labels, repairs, errors."""
from pathlib import Path
from typing import Callable, List, Optional, Tuple, Union

import pytest
from spacy.language import Language
from spacy.tokens import Doc, DocBin

from spacy_biobert.corpora.base import ConversionReport, CorpusError, load_docs
from spacy_biobert.corpora.conll import parse_conll

WriteFile = Callable[[str, Union[str, bytes]], Path]

Sentence = List[Tuple[str, str]]

SENTENCES: List[Sentence] = [
    [("Immunohistochemical", "O"), ("staining", "O"), ("of", "O"), ("Scp160p", "B-GENE"),
     (".", "O")],
    [("The", "O"), ("p53", "B-GENE"), ("tumor", "I-GENE"), ("suppressor", "I-GENE"),
     ("binds", "O"), ("BRCA1", "B-GENE"), ("BRCA2", "B-GENE"), (".", "O")],
    [("No", "O"), ("genes", "O"), ("here", "O"), (".", "O")],
]

SPECIES: List[Sentence] = [
    [("Infected", "O"), ("mice", "B-Species"), ("and", "O"), ("Homo", "B-Species"),
     ("sapiens", "I-Species"), ("cells", "O")],
    [("E.", "B-Species"), ("coli", "I-Species"), ("grew", "O")],
]


def iob(sentences: List[Sentence], sep: str = "\t") -> str:
    return "\n\n".join("\n".join(f"{tok}{sep}{tag}" for tok, tag in s) for s in sentences) + "\n"


def convert(
    nlp: Language, path: Path, report: Optional[ConversionReport] = None,
    sentences_per_doc: int = 10,
) -> Tuple[List[Doc], ConversionReport]:
    report = report if report is not None else ConversionReport()
    docs = load_docs(parse_conll, path, nlp, report, sentences_per_doc=sentences_per_doc)
    return docs, report


def test_gene_mentions(nlp: Language, write_file: WriteFile) -> None:
    docs, report = convert(nlp, write_file("genes.tsv", iob(SENTENCES)))
    assert len(docs) == 1
    doc = docs[0]
    assert doc._.doc_id == "genes-1"
    assert doc._.corpus == "genes"
    assert doc.text == " ".join(tok for s in SENTENCES for tok, _ in s)
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Scp160p", "GENE_OR_GENE_PRODUCT"),
        ("p53 tumor suppressor", "GENE_OR_GENE_PRODUCT"),
        ("BRCA1", "GENE_OR_GENE_PRODUCT"),
        ("BRCA2", "GENE_OR_GENE_PRODUCT"),
    ]
    assert report.entities == {"GENE_OR_GENE_PRODUCT": 4}
    assert report.source_types == {"GENE": 4}
    assert report.mentions == report.aligned == 4
    assert doc._.annotated_labels == ("GENE_OR_GENE_PRODUCT",)
    assert not report.warnings


def test_sentence_boundaries_kept(nlp: Language, write_file: WriteFile) -> None:
    docs, report = convert(nlp, write_file("genes.tsv", iob(SENTENCES)))
    sents = list(docs[0].sents)
    assert len(sents) == len(SENTENCES) == report.sentences
    assert [s.text for s in sents] == [" ".join(t for t, _ in s) for s in SENTENCES]


def test_given_sentences_are_not_split_by_rule(nlp: Language, write_file: WriteFile) -> None:
    # "cells . Cells" would be split by the punctuation rule; IOB sentences are given
    one = [[("Grown", "O"), ("cells", "O"), (".", "O"), ("Cells", "O"), ("died", "O")]]
    docs, report = convert(nlp, write_file("one.tsv", iob(one)))
    assert len(list(docs[0].sents)) == 1
    assert report.sentences == 1


def test_species_and_grouping(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("species.tsv", iob(SPECIES + SENTENCES))
    docs, report = convert(nlp, path, sentences_per_doc=2)
    assert [d._.doc_id for d in docs] == ["species-1", "species-3", "species-5"]
    assert [len(list(d.sents)) for d in docs] == [2, 2, 1]
    assert report.sentences == 5
    assert report.docs == 3
    assert [(e.text, e.label_) for e in docs[0].ents] == [
        ("mice", "SPECIES"), ("Homo sapiens", "SPECIES"), ("E. coli", "SPECIES")]
    assert report.entities == {"SPECIES": 3, "GENE_OR_GENE_PRODUCT": 4}
    assert docs[0]._.annotated_labels == ("GENE_OR_GENE_PRODUCT", "SPECIES")


def test_one_doc_per_sentence(nlp: Language, write_file: WriteFile) -> None:
    docs, report = convert(nlp, write_file("genes.tsv", iob(SENTENCES)), sentences_per_doc=1)
    assert [d._.doc_id for d in docs] == ["genes-1", "genes-2", "genes-3"]
    assert [len(d.ents) for d in docs] == [1, 3, 0]


def test_space_separated_and_docstart(nlp: Language, write_file: WriteFile) -> None:
    text = "-DOCSTART- O\n\n" + iob(SENTENCES[:1], sep=" ")
    docs, _ = convert(nlp, write_file("genes.txt", text))
    assert [e.text for e in docs[0].ents] == ["Scp160p"]


def test_invalid_sentences_per_doc(write_file: WriteFile) -> None:
    with pytest.raises(ValueError, match="sentences_per_doc"):
        list(parse_conll(write_file("g.tsv", iob(SENTENCES)), sentences_per_doc=0))


def _stray_i(write_file: WriteFile) -> Path:
    stray = [[("The", "O"), ("p53", "I-GENE"), ("protein", "I-GENE"), ("and", "O"),
              ("MDM2", "I-GENE")]]
    return write_file("stray.tsv", iob(stray))


def test_stray_i_tag_repaired(nlp: Language, write_file: WriteFile) -> None:
    docs, report = convert(nlp, _stray_i(write_file))
    assert report.warnings["iob_repaired"] == 2
    assert [e.text for e in docs[0].ents] == ["p53 protein", "MDM2"]


def test_stray_i_tag_strict(nlp: Language, write_file: WriteFile) -> None:
    path = _stray_i(write_file)
    with pytest.raises(CorpusError, match="I-GENE") as info:
        convert(nlp, path, ConversionReport(strict=True))
    assert info.value.line == 2
    assert f"{path.name}:2" in str(info.value)


def test_i_tag_of_other_type_starts_new_entity(nlp: Language, write_file: WriteFile) -> None:
    mixed = [[("p53", "B-GENE"), ("mice", "I-Species"), ("x", "O")]]
    docs, report = convert(nlp, write_file("mixed.tsv", iob(mixed)))
    assert [(e.text, e.label_) for e in docs[0].ents] == [
        ("p53", "GENE_OR_GENE_PRODUCT"), ("mice", "SPECIES")]
    assert report.warnings["iob_repaired"] == 1


def test_malformed_line(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("bad.tsv", "The\tO\np53\n")
    with pytest.raises(CorpusError, match="malformed line") as info:
        convert(nlp, path)
    assert info.value.line == 2
    assert f"{path.name}:2" in str(info.value)


@pytest.mark.parametrize("tag", ["GENE", "X-GENE", "B-", "b-GENE"])
def test_malformed_tag(nlp: Language, write_file: WriteFile, tag: str) -> None:
    path = write_file("bad.tsv", f"The\tO\n\nhuman\tO\np53\t{tag}\n")
    with pytest.raises(CorpusError, match="malformed tag") as info:
        convert(nlp, path)
    assert info.value.line == 4
    assert f"{path.name}:4" in str(info.value)


def test_unknown_type(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("bad.tsv", "The\tO\nliver\tB-Organ\n")
    with pytest.raises(CorpusError, match="--label-map") as info:
        convert(nlp, path)
    assert info.value.line == 2
    assert info.value.doc_id == "bad-1"


@pytest.mark.parametrize("content", ["", "\n \n"])
def test_empty_file(nlp: Language, write_file: WriteFile, content: str) -> None:
    path = write_file("empty.tsv", content)
    with pytest.raises(CorpusError, match="empty") as info:
        convert(nlp, path)
    assert path.name in str(info.value)


def test_non_utf8(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("latin.tsv", b"The\tO\n\nna\xefve\tO\n")
    with pytest.raises(CorpusError, match="not UTF-8") as info:
        convert(nlp, path)
    assert info.value.line == 3
    assert f"{path.name}:3" in str(info.value)


def test_docbin_round_trip(nlp: Language, write_file: WriteFile) -> None:
    docs, _ = convert(nlp, write_file("species.tsv", iob(SPECIES + SENTENCES)),
                      sentences_per_doc=2)
    data = DocBin(docs=docs, store_user_data=True).to_bytes()
    restored = list(DocBin(store_user_data=True).from_bytes(data).get_docs(nlp.vocab))
    assert [d._.doc_id for d in restored] == ["species-1", "species-3", "species-5"]
    for old, new in zip(docs, restored):
        assert new.text == old.text
        assert [(e.start, e.end, e.label_) for e in new.ents] == [
            (e.start, e.end, e.label_) for e in old.ents]
        assert [s.start for s in new.sents] == [s.start for s in old.sents]
        assert new._.annotated_labels == old._.annotated_labels


def test_label_map_skips_multi_token_type(nlp: Language, write_file: WriteFile) -> None:
    text = "The\tO\nliver\tB-Organ\ncells\tI-Organ\nand\tO\np53\tB-GENE\n"
    report = ConversionReport()
    docs = load_docs(parse_conll, write_file("organ.tsv", text), nlp, report,
                     label_map={"Organ": "-"})
    assert [e.text for e in docs[0].ents] == ["p53"]
    assert report.ignored == {"Organ": 1}
    assert not report.warnings  # the I-Organ continues the skipped mention: not "stray"
