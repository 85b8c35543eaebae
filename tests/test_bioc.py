"""BioC XML / JSON reader: documents, mentions, relations and located errors."""
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import bioc
import bioc.biocjson
import bioc.biocxml
import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin

from spacy_biobert.corpora.base import ConversionReport, CorpusError, load_docs
from spacy_biobert.corpora.bioc import create_bioc_reader, parse_bioc
from spacy_biobert.extensions import install_extensions
from spacy_biobert.tokenizer import biomedical_tokenizer

TITLE = "Lidocaine induced cardiac arrest."
ABSTRACT = "Naloxone reversed the hypotension and bradycardia."
ABSTRACT_OFFSET = len(TITLE) + 1

Location = Tuple[int, int]


@pytest.fixture
def nlp() -> Language:
    install_extensions()
    nlp = spacy.blank("en")
    nlp.tokenizer = biomedical_tokenizer(nlp)
    return nlp


def annotation(
    ann_id: str, type_: str, text: str, locations: Sequence[Location], **infons: str
) -> bioc.BioCAnnotation:
    ann = bioc.BioCAnnotation()
    ann.id = ann_id
    ann.text = text
    ann.infons = {"type": type_, **infons}
    for offset, length in locations:
        ann.add_location(bioc.BioCLocation(offset, length))
    return ann


def at(text: str, word: str, base: int = 0) -> Tuple[Location]:
    """The location of ``word`` in a passage ``text`` that starts at ``base``."""
    return ((base + text.index(word), len(word)),)


def relation(rel_id: str, infons: Dict[str, str], *nodes: Tuple[str, str]) -> bioc.BioCRelation:
    rel = bioc.BioCRelation()
    rel.id = rel_id
    rel.infons = dict(infons)
    for refid, role in nodes:
        rel.add_node(bioc.BioCNode(refid, role))
    return rel


def document(
    doc_id: str,
    passages: Sequence[Tuple[int, str]],
    annotations: Sequence[bioc.BioCAnnotation] = (),
    relations: Sequence[bioc.BioCRelation] = (),
) -> bioc.BioCDocument:
    """A document; annotations go on the first passage, relations on the document."""
    doc = bioc.BioCDocument()
    doc.id = doc_id
    for offset, text in passages:
        doc.add_passage(bioc.BioCPassage.of_text(text, offset))
    for ann in annotations:
        doc.passages[0].add_annotation(ann)
    for rel in relations:
        doc.add_relation(rel)
    return doc


def collection(*documents: bioc.BioCDocument) -> bioc.BioCCollection:
    coll = bioc.BioCCollection()
    coll.source = "test"
    for doc in documents:
        coll.add_document(doc)
    return coll


def cdr_document() -> bioc.BioCDocument:
    """A BC5CDR-like document: two passages, composite ids, both kinds of relation."""
    abstract = [
        annotation("T2", "Chemical", "Naloxone", at(ABSTRACT, "Naloxone", ABSTRACT_OFFSET),
                   MESH="D009270"),
        annotation("T3", "Disease", "hypotension",
                   at(ABSTRACT, "hypotension", ABSTRACT_OFFSET), identifier="D007022"),
        annotation("T4", "Disease", "bradycardia",
                   at(ABSTRACT, "bradycardia", ABSTRACT_OFFSET),
                   identifier="D001919|D000001"),
    ]
    doc = document(
        "1001",
        [(0, TITLE), (ABSTRACT_OFFSET, ABSTRACT)],
        [
            annotation("T0", "Chemical", "Lidocaine", at(TITLE, "Lidocaine"),
                       identifier="D008012"),
            annotation("T1", "Disease", "cardiac arrest", at(TITLE, "cardiac arrest"),
                       identifier="D006323"),
        ],
        [
            relation("R0", {"relation": "CID", "Chemical": "D008012", "Disease": "D006323"}),
            # the tail node first: the "Chemical" role makes T2 the head
            relation("R1", {"type": "treats"}, ("T3", "Disease"), ("T2", "Chemical")),
        ],
    )
    for ann in abstract:
        doc.passages[1].add_annotation(ann)
    return doc


def gene_document() -> bioc.BioCDocument:
    text = "BRCA1 mutations occur in humans."
    return document(
        "1002",
        [(0, text)],
        [
            annotation("G0", "Gene", "BRCA1", at(text, "BRCA1"), **{"NCBI Gene": "672"}),
            annotation("S0", "Species", "humans", at(text, "humans"), identifier="9606"),
        ],
        [relation("R0", {"type": "found_in"}, ("G0", "Arg1"), ("S0", "Arg2"))],
    )


def write_xml(path: Path, coll: bioc.BioCCollection) -> Path:
    path.write_text(bioc.biocxml.dumps(coll), encoding="utf-8")
    return path


def write_json(path: Path, coll: bioc.BioCCollection) -> Path:
    path.write_text(bioc.biocjson.dumps(coll, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def xml_file(tmp_path: Path) -> Path:
    return write_xml(tmp_path / "cdr.xml", collection(cdr_document(), gene_document()))


@pytest.fixture
def json_file(tmp_path: Path) -> Path:
    return write_json(tmp_path / "cdr.json", collection(cdr_document(), gene_document()))


def load(
    nlp: Language, path: Path, report: Optional[ConversionReport] = None, **options: object
) -> List[Doc]:
    report = report if report is not None else ConversionReport()
    return load_docs(parse_bioc, path, nlp, report, **options)


def one_doc_file(
    tmp_path: Path, doc: bioc.BioCDocument, name: str = "bad.xml",
    write: Callable[[Path, bioc.BioCCollection], Path] = write_xml,
) -> Path:
    return write(tmp_path / name, collection(doc))


def summary(doc: Doc) -> tuple:
    """Everything the reader puts on a Doc, in comparable form."""
    return (
        doc._.doc_id,
        doc.text,
        [(e.start_char, e.end_char, e.label_, e.kb_id_, tuple(e._.kb_ids)) for e in doc.ents],
        [(s.start_char, s.end_char, s.label_) for s in doc.spans["mentions"]],
        [(r.head.text, r.tail.text, r.label) for r in doc._.relations],
        [(r.head_id, r.tail_id, r.label, [(h.text, t.text) for h, t in r.mentions])
         for r in doc._.entity_relations],
        [s.start for s in doc.sents],
    )


def test_bioc_xml_documents(nlp: Language, xml_file: Path) -> None:
    report = ConversionReport()
    docs = load(nlp, xml_file, report)
    assert [d._.doc_id for d in docs] == ["1001", "1002"]
    cdr, gene = docs
    assert cdr.text == f"{TITLE} {ABSTRACT}"
    assert [(e.text, e.label_, e.kb_id_) for e in cdr.ents] == [
        ("Lidocaine", "CHEMICAL", "MESH:D008012"),
        ("cardiac arrest", "DISEASE", "MESH:D006323"),
        ("Naloxone", "CHEMICAL", "MESH:D009270"),
        ("hypotension", "DISEASE", "MESH:D007022"),
        ("bradycardia", "DISEASE", "MESH:D001919"),
    ]
    assert cdr.ents[4]._.kb_ids == ("MESH:D001919", "MESH:D000001")
    assert cdr.ents[0]._.kb_ids == ("MESH:D008012",)
    assert [(r.head.text, r.tail.text, r.label) for r in cdr._.relations] == [
        ("Naloxone", "hypotension", "treats")
    ]
    (cid,) = cdr._.entity_relations
    assert (cid.head_id, cid.tail_id, cid.label) == ("MESH:D008012", "MESH:D006323", "CID")
    assert [(h.text, t.text) for h, t in cid.mentions] == [("Lidocaine", "cardiac arrest")]
    # each passage starts a sentence
    assert [s.text.strip() for s in cdr.sents] == [TITLE, ABSTRACT]
    assert [(e.text, e.label_, e.kb_id_) for e in gene.ents] == [
        ("BRCA1", "GENE_OR_GENE_PRODUCT", "672"), ("humans", "SPECIES", "9606")]
    assert [(r.head.text, r.tail.text, r.label) for r in gene._.relations] == [
        ("BRCA1", "humans", "found_in")]
    assert gene._.corpus == "cdr"
    assert report.docs == 2 and report.mentions == 7
    assert report.relations == {"CID": 1, "treats": 1, "found_in": 1}
    assert not report.warnings


def test_bioc_xml_and_json_identical(nlp: Language, xml_file: Path, json_file: Path) -> None:
    xml_docs = load(nlp, xml_file)
    json_docs = load(nlp, json_file)
    assert [summary(d) for d in xml_docs] == [summary(d) for d in json_docs]
    assert len(xml_docs) == 2


def test_bioc_docbin_round_trip(nlp: Language, xml_file: Path) -> None:
    docs = load(nlp, xml_file)
    data = DocBin(docs=docs, store_user_data=True).to_bytes()
    restored = list(DocBin(store_user_data=True).from_bytes(data).get_docs(nlp.vocab))
    assert [summary(d) for d in restored] == [summary(d) for d in docs]
    assert restored[0]._.doc_id == "1001"
    assert restored[0].ents[4]._.kb_ids == ("MESH:D001919", "MESH:D000001")


@pytest.mark.parametrize("write", [write_xml, write_json], ids=["xml", "json"])
def test_bioc_format_sniffed_without_suffix(
    nlp: Language, tmp_path: Path, xml_file: Path,
    write: Callable[[Path, bioc.BioCCollection], Path],
) -> None:
    path = write(tmp_path / "collection.bioc", collection(cdr_document(), gene_document()))
    assert [summary(d) for d in load(nlp, path)] == [summary(d) for d in load(nlp, xml_file)]


def test_bioc_unknown_format(nlp: Language, tmp_path: Path) -> None:
    path = tmp_path / "collection.txt"
    path.write_text("PMID|t|not BioC\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="BioC XML or BioC JSON") as err:
        load(nlp, path)
    assert "collection.txt" in str(err.value)


def test_bioc_passage_gap_filled_with_spaces(nlp: Language, tmp_path: Path) -> None:
    text = "Aspirin helps."
    doc = document("7", [(0, "Title"), (10, text)])
    doc.passages[1].add_annotation(annotation("A", "Chemical", "Aspirin", at(text, "Aspirin", 10)))
    (result,) = load(nlp, one_doc_file(tmp_path, doc, "gap.xml"))
    assert result.text == "Title     " + text
    assert [(e.text, e.start_char) for e in result.ents] == [("Aspirin", 10)]


def test_bioc_passage_of_sentences(nlp: Language, tmp_path: Path) -> None:
    doc = bioc.BioCDocument()
    doc.id = "8"
    passage = bioc.BioCPassage()
    passage.offset = 0
    passage.add_sentence(bioc.BioCSentence.of_text("Aspirin helps.", 0))
    passage.add_sentence(bioc.BioCSentence.of_text("Pain stops.", 15))
    sentence_ann = annotation("P", "Disease", "Pain", ((15, 4),))
    passage.sentences[1].add_annotation(sentence_ann)
    doc.add_passage(passage)
    (result,) = load(nlp, one_doc_file(tmp_path, doc, "sentences.json", write_json))
    assert result.text == "Aspirin helps. Pain stops."
    assert [(e.text, e.label_) for e in result.ents] == [("Pain", "DISEASE")]
    assert len(list(result.sents)) == 2


@pytest.mark.parametrize("second_offset", [5, 0], ids=["overlap", "backwards"])
def test_bioc_overlapping_passages(nlp: Language, tmp_path: Path, second_offset: int) -> None:
    doc = document("D42", [(0, TITLE), (second_offset, ABSTRACT)])
    with pytest.raises(CorpusError, match="passage 2") as err:
        load(nlp, one_doc_file(tmp_path, doc, "overlap.xml"))
    assert "overlap.xml" in str(err.value)
    assert err.value.doc_id == "D42" and "document D42" in str(err.value)


def test_bioc_malformed_xml(nlp: Language, tmp_path: Path, xml_file: Path) -> None:
    lines = xml_file.read_text(encoding="utf-8").splitlines()
    broken = next(i for i, line in enumerate(lines) if "<text>" in line)
    lines[broken] = lines[broken].replace("</text>", "")
    path = tmp_path / "broken.xml"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CorpusError, match="malformed BioC XML") as err:
        load(nlp, path)
    assert err.value.path == str(path) and "broken.xml" in str(err.value)
    assert err.value.line is not None and err.value.line > broken


def test_bioc_malformed_json(nlp: Language, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "source": "x",\n  "documents": [\n    {"id": "1",,}\n  ]\n}\n',
                    encoding="utf-8")
    with pytest.raises(CorpusError, match="malformed BioC JSON") as err:
        load(nlp, path)
    assert "broken.json" in str(err.value)
    assert err.value.line == 4


@pytest.mark.parametrize(
    "name,content",
    [
        ("fields.json", '{"source": "", "date": "", "key": "", "infons": {}}'),
        ("attribute.xml", "<collection><document><id>1</id><passage><offset>0</offset>"
                          "<text>Aspirin</text><annotation><infon key='type'>Chemical</infon>"
                          "<location offset='0' length='7'/></annotation></passage>"
                          "</document></collection>"),
        ("offset.xml", "<collection><document><id>1</id><passage><offset>zero</offset>"
                       "<text>Aspirin</text></passage></document></collection>"),
    ],
)
def test_bioc_invalid_structure(nlp: Language, tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match="not a valid BioC") as err:
        load(nlp, path)
    assert name in str(err.value)


def test_bioc_no_documents(nlp: Language, tmp_path: Path) -> None:
    path = write_xml(tmp_path / "empty_collection.xml", collection())
    with pytest.raises(CorpusError, match="no documents"):
        load(nlp, path)


def test_bioc_document_without_id(nlp: Language, tmp_path: Path) -> None:
    doc = document("", [(0, TITLE)])
    with pytest.raises(CorpusError, match="without an id") as err:
        load(nlp, one_doc_file(tmp_path, doc, "noid.json", write_json))
    assert "noid.json" in str(err.value)


def test_bioc_not_utf8(nlp: Language, tmp_path: Path, xml_file: Path) -> None:
    path = tmp_path / "latin1.xml"
    path.write_bytes(xml_file.read_bytes().replace(b"Lidocaine induced", b"Lidoca\xefne induced"))
    with pytest.raises(CorpusError, match="not UTF-8") as err:
        load(nlp, path)
    assert "latin1.xml" in str(err.value)


def test_bioc_declared_encoding_must_be_utf8(nlp: Language, tmp_path: Path) -> None:
    path = tmp_path / "declared.xml"
    text = bioc.biocxml.dumps(collection(document("1", [(0, "Naïve T cells.")])))
    path.write_text(text.replace("encoding='utf-8'", "encoding='ISO-8859-1'"),
                    encoding="utf-8")
    with pytest.raises(CorpusError, match="ISO-8859-1") as err:
        load(nlp, path)
    assert "declared.xml" in str(err.value)


@pytest.mark.parametrize("content", ["", "  \n"], ids=["empty", "blank"])
def test_bioc_empty_file(nlp: Language, tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.xml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match="empty") as err:
        load(nlp, path)
    assert "empty.xml" in str(err.value)


def test_bioc_unknown_entity_type(nlp: Language, tmp_path: Path) -> None:
    doc = document("55", [(0, TITLE)], [annotation("X", "Widget", "Lidocaine",
                                                   at(TITLE, "Lidocaine"))])
    path = one_doc_file(tmp_path, doc, "types.xml")
    with pytest.raises(CorpusError, match="unknown entity type 'Widget'") as err:
        load(nlp, path)
    assert "types.xml" in str(err.value) and "document 55" in str(err.value)
    # mapped by the user, the same file reads
    (result,) = load(nlp, path, label_map={"Widget": "CHEMICAL"})
    assert [e.label_ for e in result.ents] == ["CHEMICAL"]


def test_bioc_annotation_without_type(nlp: Language, tmp_path: Path) -> None:
    ann = annotation("X", "Chemical", "Lidocaine", at(TITLE, "Lidocaine"))
    del ann.infons["type"]
    with pytest.raises(CorpusError, match="annotation X has no 'type' infon") as err:
        load(nlp, one_doc_file(tmp_path, document("56", [(0, TITLE)], [ann])))
    assert err.value.doc_id == "56"


def test_bioc_ignored_type_drops_its_relations(nlp: Language, xml_file: Path) -> None:
    report = ConversionReport()
    cdr, gene = load(nlp, xml_file, report, label_map={"Species": "-"})
    assert [e.label_ for e in gene.ents] == ["GENE_OR_GENE_PRODUCT"]
    assert gene._.relations == []
    assert report.ignored == {"Species": 1, "relation:found_in": 1}


def test_bioc_offsets_outside_text(nlp: Language, tmp_path: Path) -> None:
    doc = document("60", [(0, TITLE)], [annotation("A", "Chemical", "arrest.",
                                                   ((len(TITLE) - 7, 12),))])
    with pytest.raises(CorpusError, match="outside the document text") as err:
        load(nlp, one_doc_file(tmp_path, doc, "outside.xml"))
    assert "outside.xml" in str(err.value) and "document 60" in str(err.value)


def test_bioc_mention_text_mismatch(nlp: Language, tmp_path: Path) -> None:
    doc = document("61", [(0, TITLE)], [annotation("A", "Chemical", "Procaine",
                                                   at(TITLE, "Lidocaine"))])
    with pytest.raises(CorpusError, match="does not match") as err:
        load(nlp, one_doc_file(tmp_path, doc, "mismatch.json", write_json))
    assert "mismatch.json" in str(err.value) and "document 61" in str(err.value)


def test_bioc_zero_length_location(nlp: Language, tmp_path: Path) -> None:
    doc = document("62", [(0, TITLE)], [annotation("A", "Chemical", "", ((3, 0),))])
    with pytest.raises(CorpusError, match="length 0") as err:
        load(nlp, one_doc_file(tmp_path, doc))
    assert err.value.doc_id == "62"


def discontinuous_document(text: str = "cardiac arrest") -> bioc.BioCDocument:
    title = "cardiac and renal arrest"
    locations = ((0, 7), (title.index("arrest"), 6))
    return document("70", [(0, title)], [annotation("D", "Disease", text, locations)])


def test_bioc_discontinuous_annotation(nlp: Language, tmp_path: Path) -> None:
    report = ConversionReport()
    (doc,) = load(nlp, one_doc_file(tmp_path, discontinuous_document()), report)
    assert [(e.text, e.label_) for e in doc.ents] == [("cardiac and renal arrest", "DISEASE")]
    assert report.warnings == {"discontinuous": 1}
    with pytest.raises(CorpusError, match="discontinuous") as err:
        load(nlp, one_doc_file(tmp_path, discontinuous_document()),
             ConversionReport(strict=True))
    assert "document 70" in str(err.value)


def test_bioc_discontinuous_text_mismatch(nlp: Language, tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not match the text of its fragments"):
        load(nlp, one_doc_file(tmp_path, discontinuous_document("renal failure")))


def test_bioc_annotation_without_location(nlp: Language, tmp_path: Path) -> None:
    doc = document("71", [(0, TITLE)], [annotation("A", "Chemical", "Lidocaine", ())])
    report = ConversionReport()
    (result,) = load(nlp, one_doc_file(tmp_path, doc), report)
    assert list(result.ents) == []
    assert report.warnings == {"annotation_without_location": 1}
    with pytest.raises(CorpusError, match="no location"):
        load(nlp, one_doc_file(tmp_path, doc), ConversionReport(strict=True))


def test_bioc_relation_to_unknown_annotation(nlp: Language, tmp_path: Path) -> None:
    doc = document("80", [(0, TITLE)],
                   [annotation("T0", "Chemical", "Lidocaine", at(TITLE, "Lidocaine"))],
                   [relation("R9", {"type": "causes"}, ("T0", "Chemical"), ("T7", "Disease"))])
    with pytest.raises(CorpusError, match="relation R9 points to annotation") as err:
        load(nlp, one_doc_file(tmp_path, doc, "rel.xml"))
    assert "T7" in str(err.value) and "rel.xml" in str(err.value)
    assert err.value.doc_id == "80"


def test_bioc_unsupported_relation_is_counted(nlp: Language, tmp_path: Path) -> None:
    doc = document("81", [(0, TITLE)], [],
                   [relation("R1", {"type": "complex"}, ("T0", "a"), ("T1", "b"), ("T2", "c"))])
    report = ConversionReport()
    load(nlp, one_doc_file(tmp_path, doc), report)
    assert report.warnings == {"unsupported_relation": 1}
    with pytest.raises(CorpusError, match="unsupported_relation"):
        load(nlp, one_doc_file(tmp_path, doc), ConversionReport(strict=True))


def test_bioc_strict_turns_warnings_into_errors(nlp: Language, tmp_path: Path) -> None:
    # a CID pair whose disease no mention carries: a warning, an error when strict
    doc = document("90", [(0, TITLE)],
                   [annotation("T0", "Chemical", "Lidocaine", at(TITLE, "Lidocaine"),
                               identifier="D008012")],
                   [relation("R0", {"relation": "CID", "Chemical": "D008012",
                                    "Disease": "D999999"})])
    path = one_doc_file(tmp_path, doc, "strict.xml")
    report = ConversionReport()
    (result,) = load(nlp, path, report)
    assert [(r.head_id, r.tail_id) for r in result._.entity_relations] == [
        ("MESH:D008012", "MESH:D999999")]
    assert report.warnings == {"relation_without_mentions": 1}
    with pytest.raises(CorpusError, match="--strict") as err:
        load(nlp, path, ConversionReport(strict=True))
    assert "strict.xml" in str(err.value) and err.value.doc_id == "90"


def test_bioc_registered_reader(nlp: Language, json_file: Path) -> None:
    reader = spacy.registry.readers.get("spacy-biobert.BioCCorpus.v1")
    assert reader is create_bioc_reader
    examples = list(reader(json_file, limit=1)(nlp))
    assert len(examples) == 1
    assert examples[0].reference._.doc_id == "1001"
    assert len(examples[0].reference.ents) == 5
    assert examples[0].predicted.text == examples[0].reference.text
