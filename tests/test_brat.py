"""BRAT standoff reader: .txt/.ann pairs, mentions, relations and located errors."""
from pathlib import Path
from typing import List, Optional

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin

from spacy_biobert.corpora.base import ConversionReport, CorpusError, load_docs
from spacy_biobert.corpora.brat import create_brat_reader, parse_brat
from spacy_biobert.extensions import install_extensions
from spacy_biobert.tokenizer import biomedical_tokenizer

CDR_TEXT = (
    "Lidocaine induced cardiac arrest\n"
    "Naloxone reversed the hypotension and bradycardia.\n"
)
CDR_ANN = (
    "T1\tChemical 0 9\tLidocaine\n"
    "T2\tDisease 18 32\tcardiac arrest\n"
    "T3\tChemical 33 41\tNaloxone\n"
    "T4\tDisease 55 66\thypotension\n"
    "R1\tCID Arg1:T1 Arg2:T2\t\n"
    "R2\ttreats Arg2:T4 Arg1:T3\n"
    "N1\tReference T1 MESH:D008012\tLidocaine\n"
    "N2\tReference T4 MeSH:D007022\thypotension\n"
    "N3\tReference T4 OMIM:143890\thypotension\n"
    "#1\tAnnotatorNotes T1\ta free-text note\n"
)
GENE_TEXT = "BRCA1 mutations occur in humans."
GENE_ANN = (
    "T1\tGene 0 5\tBRCA1\n"
    "T2\tSpecies 25 31\thumans\n"
    "R1\tfound_in Arg1:T1 Arg2:T2\n"
    "N1\tReference T2 Taxonomy:9606\thumans\n"
)


@pytest.fixture
def nlp() -> Language:
    install_extensions()
    nlp = spacy.blank("en")
    nlp.tokenizer = biomedical_tokenizer(nlp)
    return nlp


def write_pair(directory: Path, name: str, text: Optional[str], ann: Optional[str]) -> Path:
    """Write ``name.txt``/``name.ann`` (None: leave that file out); return the .txt path."""
    directory.mkdir(parents=True, exist_ok=True)
    if text is not None:
        (directory / f"{name}.txt").write_text(text, encoding="utf-8", newline="")
    if ann is not None:
        (directory / f"{name}.ann").write_text(ann, encoding="utf-8", newline="")
    return directory / f"{name}.txt"


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "brat_corpus"
    write_pair(directory, "1001", CDR_TEXT, CDR_ANN)
    write_pair(directory, "1002", GENE_TEXT, GENE_ANN)
    (directory / "annotation.conf").write_text("[entities]\nChemical\n", encoding="utf-8")
    return directory


def load(
    nlp: Language, path: Path, report: Optional[ConversionReport] = None, **options: object
) -> List[Doc]:
    report = report if report is not None else ConversionReport()
    return load_docs(parse_brat, path, nlp, report, **options)


def load_one(
    nlp: Language, tmp_path: Path, ann: str, text: str = CDR_TEXT,
    report: Optional[ConversionReport] = None, **options: object,
) -> Doc:
    (doc,) = load(nlp, write_pair(tmp_path, "doc7", text, ann), report, **options)
    return doc


def summary(doc: Doc) -> tuple:
    return (
        doc._.doc_id,
        doc.text,
        [(e.start_char, e.end_char, e.label_, e.kb_id_, tuple(e._.kb_ids)) for e in doc.ents],
        [(r.head.text, r.tail.text, r.label) for r in doc._.relations],
        [s.start for s in doc.sents],
    )


def test_brat_directory(nlp: Language, corpus_dir: Path) -> None:
    report = ConversionReport()
    docs = load(nlp, corpus_dir, report)
    assert [d._.doc_id for d in docs] == ["1001", "1002"]
    cdr, gene = docs
    assert cdr.text == CDR_TEXT
    assert [(e.text, e.label_, e.kb_id_) for e in cdr.ents] == [
        ("Lidocaine", "CHEMICAL", "MESH:D008012"),
        ("cardiac arrest", "DISEASE", ""),
        ("Naloxone", "CHEMICAL", ""),
        ("hypotension", "DISEASE", "MESH:D007022"),
    ]
    # two N lines: a composite id; MeSH and OMIM ids in the linker's namespaced form
    assert cdr.ents[3]._.kb_ids == ("MESH:D007022", "OMIM:143890")
    assert cdr.ents[0]._.kb_ids == ("MESH:D008012",)
    assert [(r.head.text, r.tail.text, r.label) for r in cdr._.relations] == [
        ("Lidocaine", "cardiac arrest", "CID"),
        ("Naloxone", "hypotension", "treats"),  # Arg1 is the head whatever the order
    ]
    # each line of the text starts a sentence
    assert [s.text.strip() for s in cdr.sents] == CDR_TEXT.strip().split("\n")
    assert [(e.text, e.label_, e.kb_id_) for e in gene.ents] == [
        ("BRCA1", "GENE_OR_GENE_PRODUCT", ""), ("humans", "SPECIES", "Taxonomy:9606")]
    assert [(r.head.text, r.tail.text, r.label) for r in gene._.relations] == [
        ("BRCA1", "humans", "found_in")]
    assert gene._.corpus == "brat_corpus"
    assert report.docs == 2 and report.mentions == 6
    assert report.relations == {"CID": 1, "treats": 1, "found_in": 1}
    assert not report.warnings


def test_brat_docbin_round_trip(nlp: Language, corpus_dir: Path) -> None:
    docs = load(nlp, corpus_dir)
    data = DocBin(docs=docs, store_user_data=True).to_bytes()
    restored = list(DocBin(store_user_data=True).from_bytes(data).get_docs(nlp.vocab))
    assert [summary(d) for d in restored] == [summary(d) for d in docs]
    assert restored[0]._.doc_id == "1001"
    assert restored[0].ents[3]._.kb_ids == ("MESH:D007022", "OMIM:143890")
    assert len(restored[0]._.relations) == 2


@pytest.mark.parametrize("suffix", [".txt", ".ann"])
def test_brat_single_file(nlp: Language, corpus_dir: Path, suffix: str) -> None:
    (doc,) = load(nlp, corpus_dir / f"1002{suffix}")
    (expected,) = [d for d in load(nlp, corpus_dir) if d._.doc_id == "1002"]
    assert summary(doc) == summary(expected)


def test_brat_missing_ann(nlp: Language, corpus_dir: Path) -> None:
    write_pair(corpus_dir, "1003", "No annotations here.", None)
    report = ConversionReport()
    docs = load(nlp, corpus_dir, report)
    assert [d._.doc_id for d in docs] == ["1001", "1002", "1003"]
    assert list(docs[2].ents) == [] and docs[2].text == "No annotations here."
    assert report.warnings == {"missing_ann": 1}
    with pytest.raises(CorpusError, match="missing_ann") as err:
        load(nlp, corpus_dir / "1003.txt", ConversionReport(strict=True))
    assert "1003.txt" in str(err.value) and err.value.doc_id == "1003"


def test_brat_ann_without_txt_in_directory(nlp: Language, corpus_dir: Path) -> None:
    write_pair(corpus_dir, "orphan", None, "T1\tChemical 0 3\tabc\n")
    with pytest.raises(CorpusError, match="without its text file") as err:
        load(nlp, corpus_dir)
    assert "orphan.ann" in str(err.value)


def test_brat_single_ann_without_txt(nlp: Language, tmp_path: Path) -> None:
    write_pair(tmp_path, "orphan", None, "T1\tChemical 0 3\tabc\n")
    with pytest.raises(CorpusError, match="orphan.txt") as err:
        load(nlp, tmp_path / "orphan.ann")
    assert err.value.path is not None and err.value.path.endswith("orphan.ann")


@pytest.mark.parametrize("name", ["missing", "notes.csv"])
def test_brat_bad_path(nlp: Language, tmp_path: Path, name: str) -> None:
    (tmp_path / "notes.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(CorpusError) as err:
        load(nlp, tmp_path / name)
    assert name in str(err.value)


def test_brat_directory_without_txt(nlp: Language, tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no .txt files"):
        load(nlp, tmp_path)


@pytest.mark.parametrize("text", ["", " \n\n"], ids=["empty", "blank"])
def test_brat_empty_txt(nlp: Language, tmp_path: Path, text: str) -> None:
    with pytest.raises(CorpusError, match="text is empty") as err:
        load(nlp, write_pair(tmp_path, "empty", text, ""))
    assert "empty.txt" in str(err.value) and err.value.doc_id == "empty"


def test_brat_empty_ann(nlp: Language, tmp_path: Path) -> None:
    report = ConversionReport()
    doc = load_one(nlp, tmp_path, "", report=report)
    assert doc.text == CDR_TEXT and list(doc.ents) == []
    assert not report.warnings


@pytest.mark.parametrize("suffix", [".txt", ".ann"])
def test_brat_not_utf8(nlp: Language, tmp_path: Path, suffix: str) -> None:
    txt = write_pair(tmp_path, "latin", "Na\u00efve T cells", "T1\tGene 6 7\tT\n")
    path = txt.with_suffix(suffix)
    path.write_bytes(path.read_bytes().replace("\u00ef".encode(), b"\xef").replace(
        b"Gene", b"G\xe8ne"))
    with pytest.raises(CorpusError, match="not UTF-8") as err:
        load(nlp, txt)
    assert f"latin{suffix}" in str(err.value)


def test_brat_crlf_text_offsets_kept(nlp: Language, tmp_path: Path) -> None:
    text = "Aspirin works.\r\nPain stops.\r\n"
    doc = load_one(nlp, tmp_path, "T1\tChemical 0 7\tAspirin\r\nT2\tDisease 16 20\tPain\r\n",
                   text=text)
    assert doc.text == text
    assert [(e.text, e.start_char) for e in doc.ents] == [("Aspirin", 0), ("Pain", 16)]


def test_brat_discontinuous(nlp: Language, tmp_path: Path) -> None:
    text = "cardiac and renal arrest"
    ann = "T1\tDisease 0 7;18 24\tcardiac arrest\n"
    report = ConversionReport()
    doc = load_one(nlp, tmp_path, ann, text=text, report=report)
    assert [(e.text, e.label_) for e in doc.ents] == [("cardiac and renal arrest", "DISEASE")]
    assert report.warnings == {"discontinuous": 1}
    with pytest.raises(CorpusError, match="discontinuous") as err:
        load_one(nlp, tmp_path, ann, text=text, report=ConversionReport(strict=True))
    assert err.value.line == 1 and "doc7.ann" in str(err.value)


def test_brat_discontinuous_text_mismatch(nlp: Language, tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not match the text of its fragments") as err:
        load_one(nlp, tmp_path, "T1\tDisease 0 7;18 24\trenal failure\n",
                 text="cardiac and renal arrest")
    assert err.value.line == 1 and err.value.doc_id == "doc7"


def test_brat_unsupported_annotations(nlp: Language, tmp_path: Path) -> None:
    ann = CDR_ANN + (
        "A1\tNegated T2\n"
        "M1\tSpeculation T4\n"
        "E1\tTreatment:T3 Theme:T4\n"
        "*\tEquiv T1 T3\n"
        "R3\tcauses Arg1:E1 Arg2:T2\n"
    )
    report = ConversionReport()
    doc = load_one(nlp, tmp_path, ann, report=report)
    assert len(doc.ents) == 4 and len(doc._.relations) == 2
    assert report.warnings == {"unsupported_annotation": 5}
    with pytest.raises(CorpusError, match="unsupported_annotation") as err:
        load_one(nlp, tmp_path, ann, report=ConversionReport(strict=True))
    assert err.value.line == 11 and err.value.doc_id == "doc7"


@pytest.mark.parametrize(
    "line,message",
    [
        ("T9\tChemical 0 x\tLidocaine", "malformed offsets"),
        ("T9\tChemical 0 9 12\tLidocaine", "malformed offsets"),
        ("T9\tChemical 9 0\tLidocaine", "empty or reversed"),
        ("T9\tChemical 0 9", "malformed text-bound annotation"),
        ("T9\tChemical\tLidocaine", "malformed text-bound annotation"),
        ("R9\tCID Arg1:T1", "malformed relation"),
        ("R9\tCID Arg1=T1 Arg2:T2", "malformed argument"),
        ("R9\tCID Arg1:T1 Arg2:T99", "names T99"),
        ("N9\tReference T99 MESH:D1\tx", "names T99"),
        ("N9\tReference T1 D008012\tx", "not 'Db:ID'"),
        ("N9\tReference T1", "malformed normalization"),
        ("T1\tChemical 0 9\tLidocaine", "defined twice"),
        ("X1\tsomething", "unknown annotation id"),
        ("T9 Chemical 0 9 Lidocaine", "malformed line"),
    ],
)
def test_brat_malformed_lines(nlp: Language, tmp_path: Path, line: str, message: str) -> None:
    ann = CDR_ANN.replace("N1\t", line + "\nN1\t", 1)
    number = next(i for i, row in enumerate(CDR_ANN.split("\n"), 1) if row.startswith("N1"))
    with pytest.raises(CorpusError, match=message) as err:
        load_one(nlp, tmp_path, ann)
    assert err.value.line == number
    assert err.value.doc_id == "doc7"
    assert f"doc7.ann:{number}" in str(err.value) and "document doc7" in str(err.value)


def test_brat_unknown_entity_type(nlp: Language, tmp_path: Path) -> None:
    ann = CDR_ANN.replace("T3\tChemical", "T3\tWidget")
    with pytest.raises(CorpusError, match="unknown entity type 'Widget'") as err:
        load_one(nlp, tmp_path, ann)
    assert "doc7.ann:3" in str(err.value) and "document doc7" in str(err.value)


def test_brat_ignored_type_drops_its_relations(nlp: Language, tmp_path: Path) -> None:
    report = ConversionReport()
    doc = load_one(nlp, tmp_path, CDR_ANN, report=report, label_map={"Disease": "-"})
    assert [e.label_ for e in doc.ents] == ["CHEMICAL", "CHEMICAL"]
    assert doc._.relations == []
    assert report.ignored == {"Disease": 2, "relation:CID": 1, "relation:treats": 1}


def test_brat_offsets_outside_text(nlp: Language, tmp_path: Path) -> None:
    ann = CDR_ANN + f"T5\tChemical {len(CDR_TEXT) - 2} {len(CDR_TEXT) + 5}\tia.\n"
    with pytest.raises(CorpusError, match="outside the document text") as err:
        load_one(nlp, tmp_path, ann)
    assert "doc7.ann:11" in str(err.value) and "document doc7" in str(err.value)


def test_brat_mention_text_mismatch(nlp: Language, tmp_path: Path) -> None:
    ann = CDR_ANN.replace("Chemical 33 41\tNaloxone", "Chemical 33 41\tNaltrexone")
    with pytest.raises(CorpusError, match="does not match") as err:
        load_one(nlp, tmp_path, ann)
    assert "doc7.ann:3" in str(err.value) and "document doc7" in str(err.value)


def test_brat_strict_turns_warnings_into_errors(nlp: Language, tmp_path: Path) -> None:
    ann = "T1\tDisease 0 7;18 24\tcardiac arrest\nA1\tNegated T1\n"
    text = "cardiac and renal arrest"
    report = ConversionReport()
    load_one(nlp, tmp_path, ann, text=text, report=report)
    assert report.warnings == {"discontinuous": 1, "unsupported_annotation": 1}
    with pytest.raises(CorpusError, match="raised because of --strict"):
        load_one(nlp, tmp_path, ann, text=text, report=ConversionReport(strict=True))


def test_brat_registered_reader(nlp: Language, corpus_dir: Path) -> None:
    reader = spacy.registry.readers.get("spacy-biobert.BratCorpus.v1")
    assert reader is create_brat_reader
    examples = list(reader(corpus_dir)(nlp))
    assert [eg.reference._.doc_id for eg in examples] == ["1001", "1002"]
    assert len(examples[0].reference._.relations) == 2
    assert examples[1].predicted.text == GENE_TEXT
