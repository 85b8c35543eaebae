"""NER heads on partially annotated corpora, on a tiny random BERT.

The fixtures ``tiny_bert``, ``make_ner_nlp``, ``ner_config``, ``ner_data`` and
``trained_nlp`` are in conftest.py.
"""
from pathlib import Path
from typing import Any, Callable

import numpy
import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example
from thinc.api import Adam, Config

from spacy_biobert.extensions import install_extensions


@pytest.fixture()
def nlp(make_ner_nlp: Callable[[], spacy.Language]) -> spacy.Language:
    """A new, uninitialized transformer + ner_chemical + ner_gene pipeline (conftest)."""
    return make_ner_nlp()


def _params(model) -> numpy.ndarray:  # type: ignore[no-untyped-def]
    arrays = []
    for node in model.walk():
        if node.name == "transformer-listener":
            continue
        for name in node.param_names:
            if node.has_param(name):
                arrays.append(numpy.asarray(node.get_param(name)).ravel().copy())
        for shim in node.shims:  # the transformer's weights live in PyTorch
            arrays.extend(p.detach().cpu().numpy().ravel().copy() for p in shim._model.parameters())
    return numpy.concatenate(arrays)


def test_head_is_not_updated_by_corpora_without_its_labels(nlp: spacy.Language,
                                                           ner_data: Any) -> None:
    chem, gene = ner_data.examples(nlp)
    nlp.initialize(lambda: chem + gene)
    assert nlp.get_pipe("ner_chemical").labels == ("CHEMICAL",)
    assert nlp.get_pipe("ner_gene").labels == ("GENE_OR_GENE_PRODUCT",)
    gene_head = nlp.get_pipe("ner_gene").model
    chem_head = nlp.get_pipe("ner_chemical").model
    trf = nlp.get_pipe("transformer").model
    before_gene, before_chem, before_trf = _params(gene_head), _params(chem_head), _params(trf)
    optimizer = Adam(0.01, L2=0.0, L2_is_weight_decay=False, grad_clip=0.0)
    losses: dict = {}
    for _ in range(3):
        nlp.update(chem, sgd=optimizer, losses=losses)
    # The gene head saw only BC5CDR-like docs, which don't annotate genes.
    numpy.testing.assert_array_equal(before_gene, _params(gene_head))
    assert losses["ner_gene"] == 0.0
    # ...while the chemical head and the shared transformer did learn, even though the
    # gene head (the transformer's last listener) had nothing to learn from.
    assert not numpy.array_equal(before_chem, _params(chem_head))
    assert not numpy.array_equal(before_trf, _params(trf))
    assert losses["ner_chemical"] > 0.0
    # And gene docs do update the gene head.
    nlp.update(gene, sgd=optimizer, losses=losses)
    assert not numpy.array_equal(before_gene, _params(gene_head))


def test_heads_learn_and_merge_into_doc_ents(trained_nlp: spacy.Language, ner_data: Any,
                                              tmp_path: Path) -> None:
    # trained_nlp: the same pipeline, trained on ner_data's chemical + gene examples.
    nlp = trained_nlp
    doc = nlp("Lithium and aspirin were given .")
    assert {(e.text, e.label_) for e in doc.ents} >= {("Lithium", "CHEMICAL")}
    doc = nlp("BRCA1 is mutated in tumours .")
    assert ("BRCA1", "GENE_OR_GENE_PRODUCT") in {(e.text, e.label_) for e in doc.ents}
    # Round trip: the same predictions after to_disk / load.
    nlp.to_disk(tmp_path / "model")
    reloaded = spacy.load(tmp_path / "model")
    assert reloaded.get_pipe("ner_gene").cfg["head_labels"] == ["GENE_OR_GENE_PRODUCT"]
    for text, _ in ner_data.chem_texts + ner_data.gene_texts:
        assert [(e.start, e.end, e.label_) for e in nlp(text).ents] == [
            (e.start, e.end, e.label_) for e in reloaded(text).ents
        ]


def test_heads_decode_on_their_own_and_keep_displaced_entities(trained_nlp: spacy.Language
                                                                ) -> None:
    from spacy_biobert.ner.component import HEAD_SPANS_KEY
    from spacy_biobert.ner.scorer import label_view

    nlp = trained_nlp
    text = "BRCA1 is mutated in tumours ."
    doc = nlp(text)
    gene = ("BRCA1", "GENE_OR_GENE_PRODUCT")
    assert gene in {(s.text, s.label_) for s in doc.spans[HEAD_SPANS_KEY]}
    assert {(e.start, e.end, e.label_) for e in doc.ents} <= {
        (s.start, s.end, s.label_) for s in doc.spans[HEAD_SPANS_KEY]}
    # An entity set before the gene head (another label, overlapping BRCA1) stays in
    # doc.ents; the head still finds BRCA1, keeps it in the span group only, and the
    # gene view of the doc gets it back.
    doc = nlp.get_pipe("transformer")(nlp.make_doc(text))
    doc.ents = [Span(doc, 0, 2, label="CHEMICAL")]
    doc = nlp.get_pipe("ner_gene")(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("BRCA1 is", "CHEMICAL")]
    assert gene in {(s.text, s.label_) for s in doc.spans[HEAD_SPANS_KEY]}
    assert [(e.text, e.label_) for e in label_view(doc, {"GENE_OR_GENE_PRODUCT"})] == [gene]
    assert [e.label_ for e in label_view(doc, {"CHEMICAL"})] == ["CHEMICAL"]
    assert [e.label_ for e in label_view(doc)] == ["CHEMICAL"]


def test_partial_scorer_ignores_labels_the_corpus_does_not_annotate(nlp: spacy.Language) -> None:
    from spacy_biobert.ner.scorer import score_partial_ner

    install_extensions()
    ref = nlp.make_doc("BRCA1 binds aspirin .")
    ref.ents = [Span(ref, 0, 1, label="GENE_OR_GENE_PRODUCT")]
    ref._.annotated_labels = ("GENE_OR_GENE_PRODUCT",)
    pred = nlp.make_doc("BRCA1 binds aspirin .")
    pred.ents = [Span(pred, 0, 1, label="GENE_OR_GENE_PRODUCT"), Span(pred, 2, 3, label="CHEMICAL")]
    scores = score_partial_ner([Example(pred, ref)])
    assert scores["ents_p"] == 1.0 and scores["ents_r"] == 1.0
    assert "CHEMICAL" not in scores["ents_per_type"]
    ref._.annotated_labels = ("GENE_OR_GENE_PRODUCT", "CHEMICAL")
    scores = score_partial_ner([Example(pred, ref)])
    assert scores["ents_p"] == 0.5


def test_partial_scorer_reads_the_heads_entities_another_label_displaced(
        nlp: spacy.Language) -> None:
    from spacy.tokens import SpanGroup

    from spacy_biobert.ner.component import HEAD_SPANS_KEY
    from spacy_biobert.ner.scorer import score_partial_ner

    install_extensions()
    ref = nlp.make_doc("human insulin binds .")
    ref.ents = [Span(ref, 0, 1, label="SPECIES")]
    ref._.annotated_labels = ("SPECIES",)
    pred = nlp.make_doc("human insulin binds .")
    gene = Span(pred, 0, 2, label="GENE_OR_GENE_PRODUCT")
    pred.ents = [gene]
    assert score_partial_ner([Example(pred, ref)])["ents_r"] == 0.0
    pred.spans[HEAD_SPANS_KEY] = SpanGroup(pred, spans=[gene, Span(pred, 0, 1, label="SPECIES")])
    scores = score_partial_ner([Example(pred, ref)])
    assert scores["ents_p"] == 1.0 and scores["ents_r"] == 1.0


def test_head_needs_labels(ner_config: Config) -> None:
    config = ner_config
    config["components"]["ner_gene"]["head_labels"] = []
    with pytest.raises(ValueError, match="head_labels"):
        spacy.util.load_model_from_config(config, auto_fill=True)


def test_heads_with_token_features(ner_config: Config, ner_data: Any, features_head: Config,
                                   tmp_path: Path) -> None:
    """Heads whose tokens are transformer output + hash-embedded token features: they
    still learn only from their own corpora, and survive to_disk/load."""
    model = features_head
    for head in ("ner_chemical", "ner_gene"):
        ner_config["components"][head]["model"] = model.copy()
    nlp = spacy.util.load_model_from_config(ner_config, auto_fill=True, validate=True)
    chem, gene = ner_data.examples(nlp)
    nlp.initialize(lambda: chem + gene)
    gene_head = nlp.get_pipe("ner_gene").model
    trf = nlp.get_pipe("transformer").model
    before_gene, before_trf = _params(gene_head), _params(trf)
    optimizer = Adam(0.01, L2=0.0, L2_is_weight_decay=False, grad_clip=0.0)
    for _ in range(3):
        nlp.update(chem, sgd=optimizer)
    numpy.testing.assert_array_equal(before_gene, _params(gene_head))
    assert not numpy.array_equal(before_trf, _params(trf))
    for _ in range(20):
        nlp.update(chem + gene, sgd=optimizer)
    tok2vec = nlp.get_pipe("ner_gene").model.get_ref("tok2vec")
    vectors = tok2vec.predict([nlp("BRCA1 is mutated .")])
    assert vectors.shape[0] == 4
    nlp.to_disk(tmp_path / "model")
    reloaded = spacy.load(tmp_path / "model")
    text = "Lithium and BRCA1 were given ."
    assert [(e.start, e.end, e.label_) for e in nlp(text).ents] == [
        (e.start, e.end, e.label_) for e in reloaded(text).ents
    ]


def test_head_whose_labels_no_training_corpus_annotates_stops_initialization(
        nlp: spacy.Language, ner_data: Any) -> None:
    chem, _gene = ner_data.examples(nlp)  # no corpus annotating genes
    with pytest.raises(ValueError, match=r"NER head 'ner_gene' \(GENE_OR_GENE_PRODUCT\) "
                                         r"found no training document"):
        nlp.initialize(lambda: chem)
