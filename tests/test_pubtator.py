"""PubTator reader (BC5CDR, NCBI Disease): documents, mentions, relations, errors."""
import re
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import pytest
from spacy.language import Language
from spacy.tokens import Doc, DocBin

from spacy_biobert.corpora.base import ConversionReport, CorpusError, load_docs
from spacy_biobert.corpora.pubtator import parse_pubtator

WriteFile = Callable[[str, Union[str, bytes]], Path]

TITLE = "Lidocaine induced cardiac arrest."
ABSTRACT = (
    "Naloxone reversed the hypotension. "
    "Tricuspid valve regurgitation and heart failure occurred after treatment."
)
TEXT = f"{TITLE} {ABSTRACT}"

# (mention text, type, id column)
BC5CDR_MENTIONS: List[Tuple[str, str, str]] = [
    ("Lidocaine", "Chemical", "D008012"),
    ("cardiac arrest", "Disease", "D006323"),
    ("Naloxone", "Chemical", "-1"),
    ("hypotension", "Disease", "D007022"),
    ("Tricuspid valve regurgitation and heart failure", "Disease", "D014786|D006311"),
]


def span_of(text: str, mention: str) -> Tuple[int, int]:
    start = text.index(mention)
    return start, start + len(mention)


def mention_row(doc_id: str, text: str, mention: str, type_: str, ids: str) -> str:
    start, end = span_of(text, mention)
    return f"{doc_id}\t{start}\t{end}\t{mention}\t{type_}\t{ids}"


def pubtator_doc(
    doc_id: str,
    title: str,
    abstract: Optional[str],
    mentions: Sequence[Tuple[str, str, str]] = (),
    relations: Sequence[Tuple[str, str, str]] = (),
) -> str:
    text = title if abstract is None else f"{title} {abstract}"
    lines = [f"{doc_id}|t|{title}"]
    if abstract is not None:
        lines.append(f"{doc_id}|a|{abstract}")
    lines += [mention_row(doc_id, text, m, t, i) for m, t, i in mentions]
    lines += [f"{doc_id}\t{label}\t{head}\t{tail}" for label, head, tail in relations]
    return "\n".join(lines) + "\n\n"


BC5CDR = pubtator_doc(
    "100", TITLE, ABSTRACT, BC5CDR_MENTIONS,
    [("CID", "D008012", "D006323"), ("CID", "D008012", "D014786")],
)
SECOND = pubtator_doc(
    "200", "Cocaine and seizures.", "Cocaine caused seizures in mice.",
    [("Cocaine", "Chemical", "D003042"), ("seizures", "Disease", "D012640")],
)


def convert(
    nlp: Language, path: Path, report: Optional[ConversionReport] = None,
    label_map: Optional[Dict[str, str]] = None,
) -> Tuple[List[Doc], ConversionReport]:
    report = report if report is not None else ConversionReport()
    docs = load_docs(parse_pubtator, path, nlp, report, label_map=label_map)
    return docs, report


def assert_located(err: CorpusError, path: Path, line: Optional[int], doc_id: Optional[str]):
    message = str(err)
    assert path.name in message
    if line is not None:
        assert err.line == line
        assert f":{line}" in message
    if doc_id is not None:
        assert err.doc_id == doc_id
        assert doc_id in message


# ---------------------------------------------------------------- happy path


def test_bc5cdr_documents(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("cdr.txt", BC5CDR + SECOND)
    docs, report = convert(nlp, path)
    assert [d._.doc_id for d in docs] == ["100", "200"]
    assert docs[0].text == TEXT
    assert docs[1].text == "Cocaine and seizures. Cocaine caused seizures in mice."
    assert report.docs == 2
    assert report.mentions == 7
    assert report.aligned == 7
    assert report.repaired == 0
    assert report.entities == {"CHEMICAL": 3, "DISEASE": 4}
    assert report.relations == {"CID": 2}
    assert not report.warnings
    assert all(d._.corpus == "cdr" for d in docs)
    assert docs[0]._.annotated_labels == ("CHEMICAL", "DISEASE")


def test_bc5cdr_entities_and_ids(nlp: Language, write_file: WriteFile) -> None:
    docs, _ = convert(nlp, write_file("cdr.txt", BC5CDR))
    doc = docs[0]
    got = [(e.text, e.label_, e.kb_id_, tuple(e._.kb_ids)) for e in doc.ents]
    assert got == [
        ("Lidocaine", "CHEMICAL", "MESH:D008012", ("MESH:D008012",)),
        ("cardiac arrest", "DISEASE", "MESH:D006323", ("MESH:D006323",)),
        ("Naloxone", "CHEMICAL", "", ()),
        ("hypotension", "DISEASE", "MESH:D007022", ("MESH:D007022",)),
        ("Tricuspid valve regurgitation and heart failure", "DISEASE", "MESH:D014786",
         ("MESH:D014786", "MESH:D006311")),
    ]
    for ent, (mention, _, _) in zip(doc.ents, BC5CDR_MENTIONS):
        assert (ent.start_char, ent.end_char) == span_of(TEXT, mention)
    assert len(doc.spans["mentions"]) == 5


def test_bc5cdr_relations(nlp: Language, write_file: WriteFile) -> None:
    docs, _ = convert(nlp, write_file("cdr.txt", BC5CDR))
    rels = docs[0]._.entity_relations
    assert [(r.head_id, r.tail_id, r.label, r.score) for r in rels] == [
        ("MESH:D008012", "MESH:D006323", "CID", 1.0),
        ("MESH:D008012", "MESH:D014786", "CID", 1.0),
    ]
    assert [(h.text, t.text) for h, t in rels[0].mentions] == [("Lidocaine", "cardiac arrest")]
    # the composite mention supports a relation stated with its first id
    assert [(h.text, t.text) for h, t in rels[1].mentions] == [
        ("Lidocaine", "Tricuspid valve regurgitation and heart failure")
    ]
    assert docs[0]._.relations == []


def test_bc5cdr_sentences(nlp: Language, write_file: WriteFile) -> None:
    docs, report = convert(nlp, write_file("cdr.txt", BC5CDR))
    sents = [s.text for s in docs[0].sents]
    assert sents == [
        TITLE,
        "Naloxone reversed the hypotension.",
        "Tricuspid valve regurgitation and heart failure occurred after treatment.",
    ]
    assert report.sentences == 3


def test_title_without_final_period_is_own_sentence(
    nlp: Language, write_file: WriteFile
) -> None:
    path = write_file("t.txt", pubtator_doc("7", "Lidocaine toxicity", "lidocaine was given."))
    docs, _ = convert(nlp, path)
    assert [s.text for s in docs[0].sents] == ["Lidocaine toxicity", "lidocaine was given."]


def test_title_only_document(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("t.txt", pubtator_doc("8", "Aspirin and asthma.", None,
                                            [("Aspirin", "Chemical", "D001241")]))
    docs, _ = convert(nlp, path)
    assert docs[0].text == "Aspirin and asthma."
    assert [e.text for e in docs[0].ents] == ["Aspirin"]


def test_ncbi_types_map_to_disease(nlp: Language, write_file: WriteFile) -> None:
    title = "Ataxia telangiectasia and breast cancer."
    abstract = "Breast and ovarian cancers occur in families with the BRCA1 tumor trait."
    path = write_file("ncbi.txt", pubtator_doc("9", title, abstract, [
        ("Ataxia telangiectasia", "SpecificDisease", "D001260"),
        ("breast cancer", "DiseaseClass", "D001943"),
        ("Breast and ovarian cancers", "CompositeMention", "D001943+D010051"),
        ("tumor", "Modifier", "D009369"),
    ]))
    docs, report = convert(nlp, path)
    ents = docs[0].ents
    assert [e.label_ for e in ents] == ["DISEASE"] * 4
    assert report.source_types == {"SpecificDisease": 1, "DiseaseClass": 1,
                                   "CompositeMention": 1, "Modifier": 1}
    assert tuple(ents[2]._.kb_ids) == ("MESH:D001943", "MESH:D010051")
    assert ents[2].kb_id_ == "MESH:D001943"
    assert docs[0]._.annotated_labels == ("DISEASE",)


def test_docbin_round_trip(nlp: Language, write_file: WriteFile) -> None:
    docs, _ = convert(nlp, write_file("cdr.txt", BC5CDR + SECOND))
    data = DocBin(docs=docs, store_user_data=True).to_bytes()
    restored = list(DocBin(store_user_data=True).from_bytes(data).get_docs(nlp.vocab))
    assert len(restored) == 2
    for old, new in zip(docs, restored):
        assert new.text == old.text
        assert new._.doc_id == old._.doc_id
        assert new._.corpus == old._.corpus
        assert new._.annotated_labels == old._.annotated_labels
        assert [(e.start, e.end, e.label_, e.kb_id_, tuple(e._.kb_ids)) for e in new.ents] == [
            (e.start, e.end, e.label_, e.kb_id_, tuple(e._.kb_ids)) for e in old.ents
        ]
        assert [t.is_sent_start for t in new] == [t.is_sent_start for t in old]
        assert len(new.spans["mentions"]) == len(old.spans["mentions"])
    rels = restored[0]._.entity_relations
    assert [(r.head_id, r.tail_id, r.label) for r in rels] == [
        ("MESH:D008012", "MESH:D006323", "CID"), ("MESH:D008012", "MESH:D014786", "CID")]
    assert [(h.text, t.text) for h, t in rels[0].mentions] == [("Lidocaine", "cardiac arrest")]
    assert rels[0].mentions[0][0].doc is restored[0]
    assert tuple(restored[0].ents[4]._.kb_ids) == ("MESH:D014786", "MESH:D006311")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "bad_line, pattern",
    [
        ("100\t0\t9", r"malformed line.*3 tab-separated columns"),
        ("100\t0\tnine\tLidocaine\tChemical\tD008012", r"malformed offsets"),
        ("100|x|something else", r"unknown section '\|x\|'"),
    ],
)
def test_malformed_line(
    nlp: Language, write_file: WriteFile, bad_line: str, pattern: str
) -> None:
    text = f"100|t|{TITLE}\n100|a|{ABSTRACT}\n{bad_line}\n\n"
    path = write_file("bad.txt", text)
    with pytest.raises(CorpusError, match=pattern) as info:
        convert(nlp, path)
    assert_located(info.value, path, 3, "100")


def test_offsets_outside_text(nlp: Language, write_file: WriteFile) -> None:
    n = len(TEXT)
    path = write_file("bad.txt", f"100|t|{TITLE}\n100|a|{ABSTRACT}\n"
                                 f"100\t{n - 2}\t{n + 5}\tfoo\tChemical\tD1\n\n")
    with pytest.raises(CorpusError, match="outside the document text") as info:
        convert(nlp, path)
    assert_located(info.value, path, 3, "100")


def test_mention_text_mismatch(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("bad.txt", f"100|t|{TITLE}\n100|a|{ABSTRACT}\n"
                                 "100\t0\t9\tProcaine\tChemical\tD1\n\n")
    with pytest.raises(CorpusError, match="does not match") as info:
        convert(nlp, path)
    assert_located(info.value, path, 3, "100")
    assert "Lidocaine" in str(info.value)


def _whitespace_file(write_file: WriteFile) -> Path:
    start, end = span_of(TEXT, "cardiac arrest")
    return write_file("ws.txt", f"100|t|{TITLE}\n100|a|{ABSTRACT}\n"
                                f"100\t{start}\t{end}\tcardiac  arrest\tDisease\tD006323\n\n")


def test_mention_whitespace_is_warning(nlp: Language, write_file: WriteFile) -> None:
    docs, report = convert(nlp, _whitespace_file(write_file))
    assert report.warnings["mention_whitespace"] == 1
    assert [e.text for e in docs[0].ents] == ["cardiac arrest"]


def test_mention_whitespace_strict_is_error(nlp: Language, write_file: WriteFile) -> None:
    path = _whitespace_file(write_file)
    with pytest.raises(CorpusError, match="white space") as info:
        convert(nlp, path, ConversionReport(strict=True))
    assert_located(info.value, path, 3, "100")


def test_duplicate_identical_document(nlp: Language, write_file: WriteFile) -> None:
    docs, report = convert(nlp, write_file("dup.txt", BC5CDR + SECOND + BC5CDR))
    assert [d._.doc_id for d in docs] == ["100", "200", "100"]
    assert report.warnings["duplicate_document"] == 1
    assert report.docs == 3


def test_duplicate_different_document(nlp: Language, write_file: WriteFile) -> None:
    changed = pubtator_doc("100", TITLE, ABSTRACT, BC5CDR_MENTIONS[:2])
    path = write_file("dup.txt", BC5CDR + changed)
    first_lines = BC5CDR.count("\n")
    with pytest.raises(CorpusError, match="duplicate document id") as info:
        convert(nlp, path)
    assert_located(info.value, path, first_lines + 1, "100")
    assert "line 1" in str(info.value)


def test_relation_without_mentions(nlp: Language, write_file: WriteFile) -> None:
    text = BC5CDR.rstrip("\n") + "\n100\tCID\tD008012\tD999999\n\n"
    path = write_file("rel.txt", text)
    docs, report = convert(nlp, path)
    assert report.warnings["relation_without_mentions"] == 1
    rels = docs[0]._.entity_relations
    assert len(rels) == 3
    orphan = rels[2]
    assert (orphan.head_id, orphan.tail_id, orphan.label) == ("MESH:D008012", "MESH:D999999", "CID")
    assert orphan.mentions == ()
    assert any("D999999" in e and path.name in e for e in report.examples)


def test_non_utf8_bytes(nlp: Language, write_file: WriteFile) -> None:
    data = (f"100|t|{TITLE}\n100|a|".encode() + "Na\u00efve rats.".encode("latin-1") + b"\n\n")
    path = write_file("latin.txt", data)
    with pytest.raises(CorpusError, match="not UTF-8") as info:
        convert(nlp, path)
    assert_located(info.value, path, 2, None)


@pytest.mark.parametrize("content", ["", "  \n\n\t\n"])
def test_empty_file(nlp: Language, write_file: WriteFile, content: str) -> None:
    path = write_file("empty.txt", content)
    with pytest.raises(CorpusError, match="empty") as info:
        convert(nlp, path)
    assert path.name in str(info.value)


def test_missing_file(nlp: Language, tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        convert(nlp, tmp_path / "nope.txt")


def test_unknown_entity_type(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("foo.txt", pubtator_doc("100", TITLE, ABSTRACT,
                                              [("Lidocaine", "Foo", "X1")]))
    with pytest.raises(CorpusError, match="unknown entity type 'Foo'") as info:
        convert(nlp, path)
    assert "--label-map" in str(info.value)
    assert_located(info.value, path, 3, "100")


def test_label_map_skips_type(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("foo.txt", pubtator_doc("100", TITLE, ABSTRACT, [
        ("Lidocaine", "Foo", "X1"), ("cardiac arrest", "Disease", "D006323")]))
    docs, report = convert(nlp, path, label_map={"Foo": "-"})
    assert report.ignored == {"Foo": 1}
    assert [e.text for e in docs[0].ents] == ["cardiac arrest"]
    assert report.mentions == 1


def test_label_map_maps_type(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("foo.txt", pubtator_doc("100", TITLE, ABSTRACT,
                                              [("Lidocaine", "Foo", "X1")]))
    docs, _ = convert(nlp, path, label_map={"foo": "CHEMICAL"})
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Lidocaine", "CHEMICAL")]


def test_mention_off_token_boundaries_is_expanded(
    nlp: Language, write_file: WriteFile
) -> None:
    start, _ = span_of(TEXT, "Lidocaine")
    # "Lidoc" cuts the word "Lidocaine" in half
    path = write_file("cut.txt", f"100|t|{TITLE}\n100|a|{ABSTRACT}\n"
                                 f"100\t{start}\t{start + 5}\tLidoc\tChemical\tD008012\n\n")
    docs, report = convert(nlp, path)
    assert report.repaired == 1
    assert report.aligned == 0
    assert [(e.text, e.kb_id_) for e in docs[0].ents] == [("Lidocaine", "MESH:D008012")]
    assert report.alignment_rate == 0.0


def test_annotation_before_title(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("order.txt", f"100\t0\t9\tLidocaine\tChemical\tD008012\n"
                                   f"100|t|{TITLE}\n\n")
    with pytest.raises(CorpusError, match="before any title line") as info:
        convert(nlp, path)
    assert_located(info.value, path, 1, "100")


def test_annotation_for_other_document(nlp: Language, write_file: WriteFile) -> None:
    path = write_file("order.txt", f"100|t|{TITLE}\n200\t0\t9\tLidocaine\tChemical\tD1\n\n")
    with pytest.raises(CorpusError, match=re.escape("inside document 100")) as info:
        convert(nlp, path)
    assert_located(info.value, path, 2, "200")


def test_parse_yields_raw_records(write_file: WriteFile) -> None:
    report = ConversionReport()
    raws = list(parse_pubtator(write_file("cdr.txt", BC5CDR + SECOND), report=report))
    assert [r.doc_id for r in raws] == ["100", "200"]
    assert raws[0].section_starts == [0, len(TITLE) + 1]
    assert raws[0].mentions[2].ids == ()
    assert raws[0].mentions[4].ids == ("D014786", "D006311")
    assert [r.line for r in raws[0].relations] == [8, 9]
