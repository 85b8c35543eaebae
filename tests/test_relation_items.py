"""Typed relation items on Doc extensions and their serialization."""
from pathlib import Path
from typing import List, Tuple

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from spacy_biobert.extensions import install_extensions
from spacy_biobert.relations.items import (
    ENTITY_RELATIONS_KEY,
    RELATIONS_KEY,
    EntityRelation,
    Relation,
    entity_key,
    score_ranks,
    select_entity_relations,
    supporting_mentions,
)

TEXT = "Lidocaine caused cardiac arrest and lidocaine caused seizures in Rats ."


@pytest.fixture
def doc(nlp: Language) -> Doc:
    install_extensions()
    doc = nlp(TEXT)
    words = [t.text for t in doc]
    assert words[0] == "Lidocaine" and words[5] == "lidocaine"
    doc.ents = [
        Span(doc, 0, 1, label="CHEMICAL", kb_id="D008012"),
        Span(doc, 2, 4, label="DISEASE", kb_id="D006323"),
        Span(doc, 5, 6, label="CHEMICAL", kb_id="D008012"),
        Span(doc, 7, 8, label="DISEASE", kb_id="D012640"),
        Span(doc, 9, 10, label="SPECIES"),
    ]
    return doc


def mention_relations(doc: Doc) -> List[Relation]:
    e = doc.ents
    return [Relation(e[0], e[1], "CID", 0.75), Relation(e[2], e[3], "CID")]


def as_rows(rels: List[Relation]) -> List[Tuple[int, int, str, int, int, str, str, float]]:
    return [(r.head.start, r.head.end, r.head.label_, r.tail.start, r.tail.end, r.tail.label_,
             r.label, r.score) for r in rels]


def entity_relations(doc: Doc) -> List[EntityRelation]:
    e = doc.ents
    return [
        EntityRelation("D008012", "D006323", "CID", 1.0, ((e[0], e[1]), (e[2], e[1]))),
        EntityRelation("D008012", "D012640", "CID", 0.5),
    ]


def as_entity_rows(rels: List[EntityRelation]) -> list:
    return [(r.head_id, r.tail_id, r.label, r.score,
             [((h.start, h.end, h.label_), (t.start, t.end, t.label_)) for h, t in r.mentions])
            for r in rels]


EXPECTED_REL_ROWS = [(0, 1, "CHEMICAL", 2, 4, "DISEASE", "CID", 0.75),
                     (5, 6, "CHEMICAL", 7, 8, "DISEASE", "CID", 1.0)]
EXPECTED_ENTITY_ROWS = [
    ("D008012", "D006323", "CID", 1.0,
     [((0, 1, "CHEMICAL"), (2, 4, "DISEASE")), ((5, 6, "CHEMICAL"), (2, 4, "DISEASE"))]),
    ("D008012", "D012640", "CID", 0.5, []),
]


def test_defaults_are_empty(doc: Doc) -> None:
    assert doc._.relations == []
    assert doc._.entity_relations == []


def test_relations_set_and_get(doc: Doc) -> None:
    doc._.relations = mention_relations(doc)
    rels = doc._.relations
    assert all(isinstance(r, Relation) for r in rels)
    assert as_rows(rels) == EXPECTED_REL_ROWS
    assert rels[0].head.text == "Lidocaine"
    assert rels[0].tail.text == "cardiac arrest"
    assert rels[0].head.kb_id_ == "D008012"  # resolved to the entity span itself
    assert rels[0].head.doc is doc
    assert isinstance(doc.user_data[RELATIONS_KEY], tuple)


def test_relations_accept_plain_tuples(doc: Doc) -> None:
    e = doc.ents
    doc._.relations = [(e[0], e[3], "CID", 0.25)]
    assert as_rows(doc._.relations) == [(0, 1, "CHEMICAL", 7, 8, "DISEASE", "CID", 0.25)]


def test_relation_span_outside_ents(doc: Doc) -> None:
    doc._.relations = [Relation(doc[0:1], doc[9:10], "in_species")]
    rels = doc._.relations
    assert (rels[0].tail.text, rels[0].label) == ("Rats", "in_species")
    assert rels[0].head.label_ == ""


def test_entity_relations_set_and_get(doc: Doc) -> None:
    doc._.entity_relations = entity_relations(doc)
    rels = doc._.entity_relations
    assert all(isinstance(r, EntityRelation) for r in rels)
    assert as_entity_rows(rels) == EXPECTED_ENTITY_ROWS
    assert [(h.text, t.text) for h, t in rels[0].mentions] == [
        ("Lidocaine", "cardiac arrest"), ("lidocaine", "cardiac arrest")]
    assert ENTITY_RELATIONS_KEY in doc.user_data


def test_docbin_round_trip(nlp: Language, doc: Doc) -> None:
    doc._.relations = mention_relations(doc)
    doc._.entity_relations = entity_relations(doc)
    data = DocBin(docs=[doc], store_user_data=True).to_bytes()
    (new,) = DocBin(store_user_data=True).from_bytes(data).get_docs(nlp.vocab)
    assert as_rows(new._.relations) == EXPECTED_REL_ROWS
    assert as_entity_rows(new._.entity_relations) == EXPECTED_ENTITY_ROWS
    assert new._.relations[0].head.doc is new
    assert new._.relations[0].head.kb_id_ == "D008012"


def test_docbin_without_user_data_drops_relations(nlp: Language, doc: Doc) -> None:
    doc._.relations = mention_relations(doc)
    data = DocBin(docs=[doc], store_user_data=False).to_bytes()
    (new,) = DocBin().from_bytes(data).get_docs(nlp.vocab)
    assert new._.relations == []


def test_to_disk_from_disk(tmp_path: Path, nlp: Language, doc: Doc) -> None:
    doc._.relations = mention_relations(doc)
    doc._.entity_relations = entity_relations(doc)
    doc.to_disk(tmp_path / "doc.bin")
    new = Doc(spacy.blank("en").vocab).from_disk(tmp_path / "doc.bin")
    assert new.text == TEXT
    assert as_rows(new._.relations) == EXPECTED_REL_ROWS
    assert as_entity_rows(new._.entity_relations) == EXPECTED_ENTITY_ROWS


def test_span_from_another_doc_raises(nlp: Language, doc: Doc) -> None:
    other = nlp(TEXT)
    with pytest.raises(ValueError, match="another Doc"):
        doc._.relations = [Relation(doc.ents[0], other[2:4], "CID")]
    with pytest.raises(ValueError, match="another Doc"):
        doc._.entity_relations = [
            EntityRelation("D008012", "D006323", "CID", 1.0, ((other[0:1], doc.ents[1]),))]
    assert doc._.relations == []  # nothing stored by the failed assignments
    assert doc._.entity_relations == []


def test_entity_key(doc: Doc, nlp: Language) -> None:
    assert entity_key(doc.ents[0]) == "D008012"
    assert entity_key(doc.ents[4]) == "text:rats"
    spaced = nlp("Acute   Renal\nFailure")
    assert entity_key(spaced[:]) == "text:acute renal failure"


def test_supporting_mentions(doc: Doc) -> None:
    pairs = supporting_mentions(doc, "D008012", "D006323")
    assert [(h.start, t.start) for h, t in pairs] == [(0, 2), (5, 2)]
    assert supporting_mentions(doc, "D008012", "D999999") == ()
    by_text = supporting_mentions(doc, "D008012", "text:rats")
    assert [(h.start, t.text) for h, t in by_text] == [(0, "Rats"), (5, "Rats")]


def test_select_entity_relations_keeps_the_best_per_label_below_the_threshold() -> None:
    rels = [EntityRelation("C1", "D1", "CID", 0.2), EntityRelation("C2", "D2", "CID", 0.4),
            EntityRelation("C1", "D2", "OTHER", 0.1), EntityRelation("C3", "D3", "CID", 0.4),
            EntityRelation("C2", "D1", "CID", 0.9)]
    assert score_ranks(rels) == [3, 1, 0, 2, 0]  # ties in input order
    assert select_entity_relations(rels, 0.5) == [rels[4]]
    assert select_entity_relations(rels, 0.5, 1) == [rels[2], rels[4]]
    assert select_entity_relations(rels, 0.5, 2) == [rels[1], rels[2], rels[4]]
    assert select_entity_relations(rels, 0.0, 0) == rels
    assert select_entity_relations([], 0.5, 3) == []
