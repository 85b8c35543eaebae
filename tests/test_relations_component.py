"""The relation extractor: candidates, training, output form, bad input, and the
training-set prior (counts, leave-one-out, text keys, saved with the pipeline)."""
from typing import Callable, Dict, List, Sequence, Tuple

import numpy
import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from thinc.api import Adam, Config

from spacy_biobert.linking.component import EntityLinker
from spacy_biobert.linking.kb import LinkingKB
from spacy_biobert.linking.vocab import Concept
from spacy_biobert.relations import component as rel_component
from spacy_biobert.relations.candidates import (
    N_DISTANCE_FEATURES,
    EntityPairCandidates,
    distance_feature,
    mention_ids,
)
from spacy_biobert.relations.component import CAPPED_KEY, RelationExtractor, _pair_slices
from spacy_biobert.relations.items import EntityRelation, supporting_mentions
from spacy_biobert.relations.memory import (
    N_PRIOR_FEATURES,
    PRIOR_FEATURES,
    RelationMemory,
    doc_counts,
    doc_hash,
)

Ent = Tuple[int, int, str, str]
#: (text, entities (start, end, label, kb id), gold CID (chemical id, disease id)).
REL_DOCS: Sequence[Tuple[str, List[Ent], List[Tuple[str, str]]]] = (
    ("Lithium caused nephropathy in rats .",
     [(0, 1, "CHEMICAL", "C1"), (2, 3, "DISEASE", "D1")], [("C1", "D1")]),
    ("Aspirin did not cause asthma . Lithium caused nephropathy .",
     [(0, 1, "CHEMICAL", "C2"), (4, 5, "DISEASE", "D2"), (6, 7, "CHEMICAL", "C1"),
      (8, 9, "DISEASE", "D1")], [("C1", "D1")]),
    ("Cocaine caused seizures . Asthma was absent .",
     [(0, 1, "CHEMICAL", "C3"), (2, 3, "DISEASE", "D3"), (4, 5, "DISEASE", "D2")],
     [("C3", "D3")]),
)


def gold_doc(nlp: Language, text: str, ents: List[Ent], rels: List[Tuple[str, str]],
             corpus: str = "bc5cdr") -> Doc:
    doc = nlp.make_doc(text)
    doc.ents = [Span(doc, s, e, label=label, kb_id=kb) for s, e, label, kb in ents]
    doc._.corpus = corpus
    doc._.annotated_labels = ("CHEMICAL", "DISEASE")
    if corpus == "bc5cdr":
        doc._.entity_relations = [EntityRelation(h, t, "CID", 1.0, supporting_mentions(doc, h, t))
                                  for h, t in rels]
    return doc


def rel_examples(nlp: Language, corpus: str = "bc5cdr") -> List[Example]:
    return [Example(nlp.make_doc(text), gold_doc(nlp, text, ents, rels, corpus))
            for text, ents, rels in REL_DOCS]


def with_ents(nlp: Language, text: str, ents: List[Ent]) -> Doc:
    doc = nlp.make_doc(text)
    doc.ents = [Span(doc, s, e, label=label, kb_id=kb) for s, e, label, kb in ents]
    return doc


@pytest.fixture(scope="module")
def trained_rel_nlp(make_rel_nlp: Callable[[], Language]) -> Language:
    """NER + relations trained for 40 updates on REL_DOCS (tests must not change it)."""
    spacy.util.fix_random_seed(0)
    nlp = make_rel_nlp()
    examples = rel_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(40):
        nlp.update(examples, sgd=optimizer, drop=0.0)
    return nlp


def rel_only(nlp: Language) -> List[str]:
    return ["transformer", "relation_extractor"]


# --- candidates -----------------------------------------------------------------------


def test_candidates_are_ordered_typed_pairs_over_the_whole_doc(nlp: Language) -> None:
    doc = with_ents(nlp, REL_DOCS[1][0], REL_DOCS[1][1])
    cands = EntityPairCandidates([["CHEMICAL", "DISEASE"]], 100)(doc)
    pairs = {(cands.mentions[h].text, cands.mentions[t].text) for h, t in cands.pairs}
    # Across the sentence boundary too, and never DISEASE -> CHEMICAL.
    assert pairs == {("Aspirin", "asthma"), ("Aspirin", "nephropathy"),
                     ("Lithium", "asthma"), ("Lithium", "nephropathy")}
    assert all(0 <= d < N_DISTANCE_FEATURES for d in cands.distances)
    assert set(cands.entity_pairs()) == {("C2", "D2"), ("C2", "D1"), ("C1", "D2"), ("C1", "D1")}


def test_mention_ids_composite_missing_and_text_fallback(nlp: Language) -> None:
    doc = nlp.make_doc("Famotidine and Delirium and x")
    a = Span(doc, 0, 1, label="CHEMICAL", kb_id="D1|D2")
    b = Span(doc, 2, 3, label="DISEASE", kb_id="-1")
    doc.ents = [a, b]
    assert mention_ids(doc.ents[0]) == ("D1", "D2")
    assert mention_ids(doc.ents[1]) == ("text:delirium",)
    doc.ents[0]._.kb_ids = ("D7", "D8")
    assert mention_ids(doc.ents[0]) == ("D7", "D8", "D1", "D2")


def test_pair_cap_keeps_closest_pairs_and_counts_the_rest(nlp: Language) -> None:
    words = " ".join(f"c{i} d{i}" for i in range(150))  # 300 entities
    doc = nlp.make_doc(words)
    doc.ents = [Span(doc, i, i + 1, label="CHEMICAL" if i % 2 == 0 else "DISEASE")
                for i in range(300)]
    cands = EntityPairCandidates([["CHEMICAL", "DISEASE"]], 500)(doc)
    assert len(cands) == 500
    assert cands.capped == 150 * 150 - 500
    # Every adjacent (c_i, d_i) pair (gap 0) is kept.
    kept = {(cands.mentions[h].start, cands.mentions[t].start) for h, t in cands.pairs}
    assert all((2 * i, 2 * i + 1) in kept for i in range(150))


def test_distance_feature_encodes_gap_and_direction(nlp: Language) -> None:
    doc = nlp.make_doc(" ".join(["w"] * 200))
    near, far = Span(doc, 0, 1), Span(doc, 150, 151)
    assert distance_feature(near, far) != distance_feature(far, near)
    assert distance_feature(near, Span(doc, 1, 2)) != distance_feature(near, far)


def test_bad_candidate_config_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="type_pairs"):
        EntityPairCandidates([["CHEMICAL"]], 10)
    with pytest.raises(ValueError, match="max_pairs"):
        EntityPairCandidates([["CHEMICAL", "DISEASE"]], 0)


# --- training and prediction ----------------------------------------------------------


def test_learns_the_gold_pairs(trained_rel_nlp: Language) -> None:
    nlp = trained_rel_nlp
    text, ents, _ = REL_DOCS[1]
    with nlp.select_pipes(enable=rel_only(nlp)):
        doc = nlp(with_ents(nlp, text, ents))
    scores = {(r.head_id, r.tail_id): r.score for r in doc._.entity_relations}
    assert scores.get(("C1", "D1"), 0.0) > 0.5
    assert ("C2", "D2") not in scores  # below the threshold
    for rel in doc._.relations:
        assert rel.head.label_ == "CHEMICAL" and rel.tail.label_ == "DISEASE"
        assert rel.head.doc is doc and 0.0 <= rel.score <= 1.0


def test_entities_from_elsewhere_with_select_pipes(trained_rel_nlp: Language) -> None:
    """Entities from a rule (no kb ids): relations keyed by normalized text."""
    nlp = trained_rel_nlp
    doc = nlp.make_doc("Lithium caused nephropathy in rats .")
    doc.ents = [Span(doc, 0, 1, label="CHEMICAL"), Span(doc, 2, 3, label="DISEASE")]
    with nlp.select_pipes(enable=rel_only(nlp)):
        doc = nlp(doc)
    assert [e.text for e in doc.ents] == ["Lithium", "nephropathy"]  # NER did not run
    pairs = {(r.head_id, r.tail_id) for r in doc._.entity_relations}
    assert pairs == {("text:lithium", "text:nephropathy")}


def test_linked_entities_are_grouped_by_concept(trained_rel_nlp: Language) -> None:
    """With the entity linker before it, entities are concepts (MeSH ids); NIL mentions
    fall back to their text."""
    nlp = trained_rel_nlp
    kb = LinkingKB("test")
    kb.add_concept(Concept("MESH:D008094", "CHEMICAL", "Lithium", ["Li"]))
    kb.build_index()
    linker = EntityLinker(nlp, "entity_linker")
    linker.kb = kb
    doc = nlp.make_doc("Lithium caused nephropathy . Li again .")
    doc.ents = [Span(doc, 0, 1, label="CHEMICAL"), Span(doc, 2, 3, label="DISEASE"),
                Span(doc, 4, 5, label="CHEMICAL")]
    doc = linker(doc)
    assert [e.kb_id_ for e in doc.ents] == ["MESH:D008094", "", "MESH:D008094"]
    rel = nlp.get_pipe("relation_extractor")
    rel.cfg["store_all_candidates"] = True
    try:
        with nlp.select_pipes(enable=rel_only(nlp)):
            doc = nlp(doc)
    finally:
        rel.cfg["store_all_candidates"] = False
    (erel,) = doc._.entity_relations
    assert (erel.head_id, erel.tail_id) == ("MESH:D008094", "text:nephropathy")
    assert sorted(h.text for h, _ in erel.mentions) == ["Li", "Lithium"]


def test_all_candidates_have_scores_when_asked(trained_rel_nlp: Language) -> None:
    nlp = trained_rel_nlp
    rel = nlp.get_pipe("relation_extractor")
    text, ents, _ = REL_DOCS[1]
    rel.cfg["store_all_candidates"] = True
    try:
        with nlp.select_pipes(enable=rel_only(nlp)):
            doc = nlp(with_ents(nlp, text, ents))
    finally:
        rel.cfg["store_all_candidates"] = False
    assert len(doc._.relations) == 4 and len(doc._.entity_relations) == 4
    assert any(r.score < 0.5 for r in doc._.entity_relations)


def test_bad_input_batch_does_not_crash(trained_rel_nlp: Language) -> None:
    """Empty docs, no entities, one type only, overlapping spans, no kb ids: one batch."""
    nlp = trained_rel_nlp
    docs = [nlp.make_doc(""), nlp.make_doc("Nothing here ."),
            with_ents(nlp, "Lithium and aspirin .", [(0, 1, "CHEMICAL", ""),
                                                     (2, 3, "CHEMICAL", "")]),
            with_ents(nlp, "Lithium caused nephropathy .", [(0, 1, "CHEMICAL", ""),
                                                           (2, 3, "DISEASE", "")]),
            nlp.make_doc("")]
    with nlp.select_pipes(enable=rel_only(nlp)):
        out = list(nlp.pipe(docs, batch_size=5))
    assert [len(d._.entity_relations) for d in out[:3]] == [0, 0, 0]
    assert out[4]._.relations == [] and out[4]._.entity_relations == []
    assert {(r.head_id, r.tail_id) for r in out[3]._.entity_relations} <= {
        ("text:lithium", "text:nephropathy")}
    # The full pipeline (NER first) on raw text, empty ones included.
    assert len(list(nlp.pipe(["", "Lithium caused nephropathy .", ""]))) == 3


def test_pair_slices_cover_every_doc_within_the_limit() -> None:
    sizes = [3, 0, 5, 2, 9, 0, 1]
    slices = _pair_slices(sizes, 5)
    assert slices[0][0] == 0 and slices[-1][1] == len(sizes)
    assert all(a[1] == b[0] for a, b in zip(slices, slices[1:]))
    for start, end in slices:
        assert end > start
        assert sum(sizes[start:end]) <= 5 or end - start == 1  # 9 pairs: a slice alone
    assert _pair_slices([], 5) == [(0, 0)]


def test_predicting_in_slices_gives_the_same_scores(trained_rel_nlp: Language,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    nlp = trained_rel_nlp
    docs = [with_ents(nlp, text, ents) for text, ents, _ in REL_DOCS]
    docs.insert(1, nlp.make_doc("Nothing here ."))
    with nlp.select_pipes(enable=["transformer"]):
        docs = list(nlp.pipe(docs))
    rel = nlp.get_pipe("relation_extractor")
    cands, whole = rel.predict(docs)
    slices = []

    def recorded(sizes: List[int], limit: int) -> List[Tuple[int, int]]:
        slices.extend(_pair_slices(sizes, limit))
        return slices

    monkeypatch.setattr(rel_component, "PREDICT_PAIRS", 2)
    monkeypatch.setattr(rel_component, "_pair_slices", recorded)
    _, sliced = rel.predict(docs)
    assert len(slices) > 1
    numpy.testing.assert_allclose(sliced, whole, atol=1e-6)
    assert len(whole) == sum(len(c) for c in cands)


def test_overlapping_spans_through_spans_key(make_rel_nlp: Callable[[], Language]) -> None:
    nlp = make_rel_nlp()
    examples = rel_examples(nlp)
    nlp.initialize(lambda: examples)
    rel = nlp.get_pipe("relation_extractor")
    rel.cfg["spans_key"] = "mentions"
    rel.cfg["store_all_candidates"] = True
    doc = nlp.make_doc("lithium nephropathy was seen .")
    # A disease mention that contains the chemical mention.
    doc.spans["mentions"] = [Span(doc, 0, 1, label="CHEMICAL"), Span(doc, 0, 2, label="DISEASE")]
    with nlp.select_pipes(enable=rel_only(nlp)):
        doc = nlp(doc)
    assert [(r.head.text, r.tail.text) for r in doc._.relations] == [
        ("lithium", "lithium nephropathy")]


def test_300_entities_hit_the_cap_and_are_counted(make_rel_nlp: Callable[[], Language]) -> None:
    nlp = make_rel_nlp()
    nlp.initialize(lambda: rel_examples(nlp))
    rel = nlp.get_pipe("relation_extractor")
    text = " ".join(f"c{i} d{i}" for i in range(150))
    doc = nlp.make_doc(text)
    doc.ents = [Span(doc, i, i + 1, label="CHEMICAL" if i % 2 == 0 else "DISEASE")
                for i in range(300)]
    rel.cfg["store_all_candidates"] = True
    with nlp.select_pipes(enable=rel_only(nlp)):
        doc = nlp(doc)
    assert len(doc._.relations) == 1000  # the default cap
    assert doc.user_data[CAPPED_KEY] == 150 * 150 - 1000
    assert rel.capped_docs == 1 and rel.capped_pairs == 150 * 150 - 1000


def test_head_not_updated_without_relation_gold(make_rel_nlp: Callable[[], Language]) -> None:
    """Docs of a corpus without relations: relation weights stay, transformer learns."""
    nlp = make_rel_nlp()
    with_rels = rel_examples(nlp)
    nlp.initialize(lambda: with_rels)
    optimizer = Adam(0.01, L2=0.0, L2_is_weight_decay=False, grad_clip=0.0)
    rel = nlp.get_pipe("relation_extractor")
    assert isinstance(rel, RelationExtractor)
    no_rels = rel_examples(nlp, corpus="ncbi_disease")  # no relation rows
    assert not any(rel.learns_from(eg.reference) for eg in no_rels)
    head = rel.model.get_ref("output_layer")
    before = head.get_param("W").copy()
    trf = nlp.get_pipe("transformer").model
    shim = next(s for node in trf.walk() for s in node.shims)
    trf_before = [p.detach().clone() for p in shim._model.parameters()]
    losses: Dict[str, float] = {}
    for _ in range(3):
        nlp.update(no_rels, sgd=optimizer, losses=losses)
    assert numpy.array_equal(before, head.get_param("W"))
    assert losses["relation_extractor"] == 0.0
    # The relation extractor is the transformer's last listener: had it not released
    # its listener, the transformer would have skipped this update.
    trf_after = list(shim._model.parameters())
    assert any(not (a == b).all() for a, b in zip(trf_before, trf_after))
    # With relation gold the head moves.
    nlp.update(with_rels, sgd=optimizer, losses=losses)
    assert not numpy.array_equal(before, head.get_param("W"))
    assert losses["relation_extractor"] > 0.0


def test_predictions_survive_docbin_and_to_disk(trained_rel_nlp: Language, tmp_path) -> None:  # type: ignore[no-untyped-def]
    nlp = trained_rel_nlp
    text, ents, _ = REL_DOCS[1]
    with nlp.select_pipes(enable=rel_only(nlp)):
        doc = nlp(with_ents(nlp, text, ents))
    assert doc._.entity_relations
    docbin = DocBin(store_user_data=True, docs=[doc])
    back = list(DocBin().from_bytes(docbin.to_bytes()).get_docs(nlp.vocab))[0]
    assert back._.entity_relations == doc._.entity_relations or [
        (r.head_id, r.tail_id, r.label, r.score, [(h.text, t.text) for h, t in r.mentions])
        for r in back._.entity_relations] == [
        (r.head_id, r.tail_id, r.label, r.score, [(h.text, t.text) for h, t in r.mentions])
        for r in doc._.entity_relations]
    assert [(r.head.text, r.tail.text, r.score) for r in back._.relations] == [
        (r.head.text, r.tail.text, r.score) for r in doc._.relations]
    # The pipeline itself: same scores after to_disk / spacy.load, threshold kept.
    nlp.get_pipe("relation_extractor").threshold = 0.3
    try:
        nlp.to_disk(tmp_path / "pipeline")
    finally:
        nlp.get_pipe("relation_extractor").threshold = 0.5
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.get_pipe("relation_extractor").threshold == 0.3
    loaded.get_pipe("relation_extractor").threshold = 0.5
    with loaded.select_pipes(enable=rel_only(loaded)):
        again = loaded(with_ents(loaded, text, ents))
    assert [round(r.score, 5) for r in again._.entity_relations] == [
        round(r.score, 5) for r in doc._.entity_relations]


def test_entity_and_mention_thresholds_are_separate(trained_rel_nlp: Language) -> None:
    nlp = trained_rel_nlp
    rel = nlp.get_pipe("relation_extractor")
    text, ents, _ = REL_DOCS[1]
    rel.threshold, rel.mention_threshold = 0.0, 1.01
    try:
        with nlp.select_pipes(enable=rel_only(nlp)):
            doc = nlp(with_ents(nlp, text, ents))
    finally:
        rel.threshold, rel.mention_threshold = 0.5, None
    assert len(doc._.entity_relations) == 4 and doc._.relations == []
    assert rel.mention_threshold == rel.threshold == 0.5


def test_min_per_doc_reports_each_documents_best_pairs(trained_rel_nlp: Language,
                                                       tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Below the threshold, every document with candidates still reports its k best
    entity pairs; documents without candidates report none; mention pairs unaffected."""
    nlp = trained_rel_nlp
    rel = nlp.get_pipe("relation_extractor")
    text, ents, _ = REL_DOCS[1]

    def run() -> List[Doc]:
        docs = [with_ents(nlp, text, ents), nlp.make_doc(""),
                with_ents(nlp, "Lithium and aspirin .", [(0, 1, "CHEMICAL", ""),
                                                         (2, 3, "CHEMICAL", "")])]
        with nlp.select_pipes(enable=rel_only(nlp)):
            return list(nlp.pipe(docs))

    rel.cfg["store_all_candidates"] = True
    try:
        every = run()[0]._.entity_relations
    finally:
        rel.cfg["store_all_candidates"] = False
    best_two = {(r.head_id, r.tail_id) for r in sorted(every, key=lambda r: -r.score)[:2]}
    rel.threshold, rel.min_per_doc = 1.01, 2
    try:
        out = run()
        nlp.to_disk(tmp_path / "pipeline")
    finally:
        rel.threshold, rel.min_per_doc = 0.5, 0
    assert {(r.head_id, r.tail_id) for r in out[0]._.entity_relations} == best_two
    assert out[0]._.relations == []  # mention pairs keep their own threshold
    assert out[1]._.entity_relations == [] and out[2]._.entity_relations == []
    assert spacy.load(tmp_path / "pipeline").get_pipe("relation_extractor").min_per_doc == 2
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="min_per_doc"):
            rel.min_per_doc = bad  # type: ignore[assignment]


def test_v3_attention_model_learns_and_survives_to_disk(rel_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    model_cfg = rel_config["components"]["relation_extractor"]["model"]
    model_cfg["@architectures"] = "spacy-biobert.RelationModel.v3"
    model_cfg["attention_width"] = 8
    spacy.util.fix_random_seed(0)
    nlp = spacy.util.load_model_from_config(rel_config, auto_fill=True, validate=True)
    examples = rel_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    features = nlp.get_pipe("relation_extractor").model.layers[0]
    before = features.get_param("att_q").copy()
    for _ in range(40):
        nlp.update(examples, sgd=optimizer, drop=0.0)
    assert not numpy.allclose(before, features.get_param("att_q"))  # attention is trained
    text, ents, _ = REL_DOCS[1]
    with nlp.select_pipes(enable=rel_only(nlp)):
        doc = nlp(with_ents(nlp, text, ents))
    scores = {(r.head_id, r.tail_id): r.score for r in doc._.entity_relations}
    assert scores.get(("C1", "D1"), 0.0) > 0.5 and ("C2", "D2") not in scores
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    with loaded.select_pipes(enable=rel_only(loaded)):
        again = loaded(with_ents(loaded, text, ents))
    assert [round(r.score, 5) for r in again._.entity_relations] == [
        round(r.score, 5) for r in doc._.entity_relations]


# --- training-set prior ---------------------------------------------------------------

TYPES = [("CHEMICAL", "DISEASE")]
CANDS = EntityPairCandidates(TYPES, 100)


def build(docs: List[Doc]) -> RelationMemory:
    return RelationMemory.build(
        (doc_hash(d), doc_counts(d, TYPES, [(r.head_id, r.tail_id) for r in d._.entity_relations],
                                 d.ents)) for d in docs)


def gold_docs(nlp: Language) -> List[Doc]:
    return [gold_doc(nlp, text, ents, rels) for text, ents, rels in REL_DOCS]


def feature(memory: RelationMemory, doc: Doc, head: str, tail: str, name: str,
            exclude: bool = False) -> float:
    cands = CANDS(doc)
    gold = [(r.head_id, r.tail_id) for r in doc._.entity_relations]
    exclude_counts = doc_counts(doc, TYPES, gold, doc.ents) if exclude else None
    rows = memory.features(cands, exclude_counts)
    col = PRIOR_FEATURES.index(name)
    values = [row[col] for row, (h, t) in zip(rows, cands.pairs)
              if head in cands.ids[h] and tail in cands.ids[t]]
    assert values, f"no candidate pair {head} -> {tail}"
    return max(values)


def test_counts_rates_and_deduplication(nlp: Language) -> None:
    docs = gold_docs(nlp)
    memory = build(docs + docs[:1])  # a repeated document counts once
    assert len(memory) == 3
    # C1 -> D1 is stated in two documents and named together in those two.
    assert memory.pair_pos[("C1", "D1")] == 2 and memory.pair_co[("C1", "D1")] == 2
    # Aspirin (C2) is named once and never a relation head: not kept at all.
    assert "C2" not in memory.head_pos and ("C2", "D2") not in memory.pair_pos
    # The mention texts are keys too (entities without ids).
    assert memory.pair_pos[("text:lithium", "text:nephropathy")] == 2
    doc = docs[1]
    assert feature(memory, doc, "C1", "D1", "pair_known") == 1.0
    assert feature(memory, doc, "C1", "D1", "pair_rate") == pytest.approx(2 / 3)
    assert feature(memory, doc, "C2", "D2", "pair_known") == 0.0
    assert feature(memory, doc, "C2", "D2", "head_rate") == 0.0


def test_leave_one_out_removes_the_documents_own_relations(nlp: Language) -> None:
    docs = gold_docs(nlp)
    memory = build(docs)
    # Cocaine -> seizures is stated only in the third document: left out, it is unknown.
    assert feature(memory, docs[2], "C3", "D3", "pair_known") == 1.0
    assert feature(memory, docs[2], "C3", "D3", "pair_known", exclude=True) == 0.0
    assert feature(memory, docs[2], "C3", "D3", "head_rate", exclude=True) == 0.0
    # Lithium -> nephropathy is also stated in another document: still known.
    assert feature(memory, docs[0], "C1", "D1", "pair_known", exclude=True) == 1.0
    assert feature(memory, docs[0], "C1", "D1", "pair_rate", exclude=True) == pytest.approx(0.5)


def test_text_keys_reach_entities_without_ids(nlp: Language) -> None:
    memory = build(gold_docs(nlp))
    doc = with_ents(nlp, "Lithium gave nephropathy .", [(0, 1, "CHEMICAL", ""),
                                                         (2, 3, "DISEASE", "")])
    assert feature(memory, doc, "text:lithium", "text:nephropathy", "pair_known") == 1.0


def test_memory_round_trips_through_json(nlp: Language) -> None:
    import srsly

    memory = build(gold_docs(nlp))
    again = RelationMemory.from_dict(srsly.json_loads(srsly.json_dumps(memory.to_dict())))
    doc = gold_docs(nlp)[1]
    assert again.features(CANDS(doc)) == memory.features(CANDS(doc))
    assert len(memory.features(CANDS(doc))[0]) == N_PRIOR_FEATURES


def prior_config(rel_config: Config) -> Config:
    rel_config["components"]["relation_extractor"]["model"]["prior"] = True
    return rel_config


def test_component_builds_uses_and_saves_the_prior(rel_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spacy.util.fix_random_seed(0)
    nlp = spacy.util.load_model_from_config(prior_config(rel_config), auto_fill=True,
                                            validate=True)
    rel = nlp.get_pipe("relation_extractor")
    assert isinstance(rel, RelationExtractor) and rel.uses_prior and rel.memory is None
    examples = rel_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    memory = rel.memory
    assert memory is not None and len(memory) == 3
    assert memory.pair_pos[("C1", "D1")] == 2
    # Training candidates leave their own document out; prediction does not.
    text, ents, _ = REL_DOCS[2]
    train_cands = rel._gold_candidates(examples[2])
    pred_cands = rel._doc_candidates(with_ents(nlp, text, ents))
    known = PRIOR_FEATURES.index("pair_known")
    assert max(row[known] for row in pred_cands.prior) == 1.0
    assert max(row[known] for row in train_cands.prior) == 0.0
    for _ in range(30):
        nlp.update(examples, sgd=optimizer, drop=0.0)
    text, ents, _ = REL_DOCS[1]
    with nlp.select_pipes(enable=rel_only(nlp)):
        doc = nlp(with_ents(nlp, text, ents))
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    loaded_rel = loaded.get_pipe("relation_extractor")
    assert isinstance(loaded_rel, RelationExtractor)
    assert loaded_rel.memory is not None and loaded_rel.memory.pair_pos == memory.pair_pos
    with loaded.select_pipes(enable=rel_only(loaded)):
        again = loaded(with_ents(loaded, text, ents))
    assert numpy.allclose([r.score for r in again._.entity_relations],
                          [r.score for r in doc._.entity_relations], atol=1e-5)
    assert doc._.entity_relations


def test_prior_without_memory_is_zero_with_a_warning(rel_config, caplog) -> None:  # type: ignore[no-untyped-def]
    nlp = spacy.util.load_model_from_config(prior_config(rel_config), auto_fill=True,
                                            validate=True)
    # Documents without relation annotation: an empty memory, zero features.
    examples = rel_examples(nlp, corpus="ncbi_disease")
    nlp.initialize(lambda: examples)
    rel = nlp.get_pipe("relation_extractor")
    assert isinstance(rel, RelationExtractor)
    assert rel.memory is not None and len(rel.memory) == 0
    text, ents, _ = REL_DOCS[1]
    cands = rel._doc_candidates(with_ents(nlp, text, ents))
    assert len(cands.prior) == len(cands) and not any(any(row) for row in cands.prior)
    # No memory at all (a component never initialized on data): zeros and a warning.
    rel.cfg["memory"] = None
    # (The logger's own level: CLI tests quieten "spacy_biobert" in this process.)
    with caplog.at_level("WARNING", logger="spacy_biobert.relations.component"):
        cands = rel._doc_candidates(with_ents(nlp, text, ents))
    assert cands.prior == [] and "no memory" in caplog.text
    with nlp.select_pipes(enable=rel_only(nlp)):
        doc = nlp(with_ents(nlp, text, ents))
    assert isinstance(doc._.entity_relations, list)
