"""The training-set relation prior: counts, leave-one-out, text keys, the component."""
from typing import List

import numpy
import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc
from test_relations_component import REL_DOCS, gold_doc, rel_examples, rel_only, with_ents
from thinc.api import Config

from spacy_biobert.relations.candidates import EntityPairCandidates
from spacy_biobert.relations.component import RelationExtractor
from spacy_biobert.relations.memory import (
    N_PRIOR_FEATURES,
    PRIOR_FEATURES,
    RelationMemory,
    doc_counts,
    doc_hash,
)

TYPES = [("CHEMICAL", "DISEASE")]
CANDS = EntityPairCandidates(TYPES, 100)


@pytest.fixture(scope="module")
def blank() -> Language:
    return spacy.blank("en")


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


def test_counts_rates_and_deduplication(blank: Language) -> None:
    docs = gold_docs(blank)
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


def test_leave_one_out_removes_the_documents_own_relations(blank: Language) -> None:
    docs = gold_docs(blank)
    memory = build(docs)
    # Cocaine -> seizures is stated only in the third document: left out, it is unknown.
    assert feature(memory, docs[2], "C3", "D3", "pair_known") == 1.0
    assert feature(memory, docs[2], "C3", "D3", "pair_known", exclude=True) == 0.0
    assert feature(memory, docs[2], "C3", "D3", "head_rate", exclude=True) == 0.0
    # Lithium -> nephropathy is also stated in another document: still known.
    assert feature(memory, docs[0], "C1", "D1", "pair_known", exclude=True) == 1.0
    assert feature(memory, docs[0], "C1", "D1", "pair_rate", exclude=True) == pytest.approx(0.5)


def test_text_keys_reach_entities_without_ids(blank: Language) -> None:
    memory = build(gold_docs(blank))
    doc = with_ents(blank, "Lithium gave nephropathy .", [(0, 1, "CHEMICAL", ""),
                                                         (2, 3, "DISEASE", "")])
    assert feature(memory, doc, "text:lithium", "text:nephropathy", "pair_known") == 1.0


def test_memory_round_trips_through_json(blank: Language) -> None:
    import srsly

    memory = build(gold_docs(blank))
    again = RelationMemory.from_dict(srsly.json_loads(srsly.json_dumps(memory.to_dict())))
    doc = gold_docs(blank)[1]
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
    with caplog.at_level("WARNING"):
        cands = rel._doc_candidates(with_ents(nlp, text, ents))
    assert cands.prior == [] and "no memory" in caplog.text
    with nlp.select_pipes(enable=rel_only(nlp)):
        doc = nlp(with_ents(nlp, text, ents))
    assert isinstance(doc._.entity_relations, list)
