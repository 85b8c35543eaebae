"""Relation features of RelationModel.v2: sentences, document features, context
pooling (with a finite-difference gradient check), and the heads' learning rate."""
from typing import List, Tuple

import numpy
import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from thinc.api import Adam, Model, NumpyOps

from spacy_biobert.optim import ScaledOptimizer, finish_update_scaled
from spacy_biobert.relations.architectures import relation_model_v2, relation_model_v3
from spacy_biobert.relations.candidates import (
    N_PAIR_FEATURES,
    PAIR_FEATURES,
    Candidates,
    EntityPairCandidates,
    sentence_ids,
)

TEXT = ("Lithium nephrotoxicity . Lithium caused nephropathy in rats . "
        "Haloperidol was given . Nephropathy was severe .")


def lithium_doc(nlp: Language) -> Doc:
    doc = nlp.make_doc(TEXT)
    words = [t.text for t in doc]
    assert words[:3] == ["Lithium", "nephrotoxicity", "."]

    def ent(i: int, label: str, kb: str) -> Span:
        return Span(doc, i, i + 1, label=label, kb_id=kb)

    doc.ents = [ent(0, "CHEMICAL", "C1"), ent(1, "DISEASE", "D1"), ent(3, "CHEMICAL", "C1"),
                ent(5, "DISEASE", "D1"), ent(9, "CHEMICAL", "C2"), ent(13, "DISEASE", "D1")]
    return doc


def feature(cands: Candidates, head: str, tail: str, name: str) -> float:
    for k, (h, t) in enumerate(cands.pairs):
        if (cands.mentions[h].text, cands.mentions[t].text) == (head, tail):
            return cands.features[k][PAIR_FEATURES.index(name)]
    raise KeyError((head, tail))


def test_sentence_rule_splits_at_sentence_final_punctuation(nlp: Language) -> None:
    doc = nlp.make_doc("Dose 2.5 mg was given . 3 rats died ! the end . Next one")
    ids = sentence_ids(doc)
    words = [t.text for t in doc]
    assert ids[words.index("3")] == 1
    # A lower-case word after "!" does not start a sentence; "2.5" is no boundary.
    assert ids[words.index("the")] == 1
    assert ids[words.index("Next")] == 2
    assert ids[words.index("mg")] == 0


def test_document_features_of_pairs(nlp: Language) -> None:
    cands = EntityPairCandidates([["CHEMICAL", "DISEASE"]], 100)(lithium_doc(nlp))
    assert len(cands.features) == len(cands) and len(cands.features[0]) == N_PAIR_FEATURES
    # Lithium (C1) is in the title, three mentions of D1, C2 only once and later.
    assert feature(cands, "Lithium", "nephrotoxicity", "same_sentence") == 1.0
    assert feature(cands, "Haloperidol", "nephrotoxicity", "same_sentence") == 0.0
    assert feature(cands, "Haloperidol", "nephropathy", "entities_share_sentence") == 0.0
    assert feature(cands, "Haloperidol", "nephropathy", "head_in_title") == 0.0
    assert feature(cands, "Lithium", "Nephropathy", "head_in_title") == 1.0
    assert feature(cands, "Lithium", "Nephropathy", "entities_share_sentence") == 1.0
    assert feature(cands, "Lithium", "Nephropathy", "head_most_frequent") == 1.0
    assert feature(cands, "Haloperidol", "Nephropathy", "head_most_frequent") == 0.0
    assert feature(cands, "Haloperidol", "nephropathy", "tail_mentions") == \
        pytest.approx(numpy.log1p(3) / 3)
    # Context: only between mentions in one sentence ("caused" between Lithium and
    # nephropathy), never across sentences.
    k = next(k for k, (h, t) in enumerate(cands.pairs)
             if cands.mentions[h].start == 3 and cands.mentions[t].start == 5)
    assert cands.contexts[k] == (4, 5)
    k = next(k for k, (h, t) in enumerate(cands.pairs)
             if cands.mentions[h].start == 9 and cands.mentions[t].start == 13)
    assert cands.contexts[k] == (0, 0)


class _FixedVectors:
    """A tok2vec stand-in that returns fixed token vectors and keeps their gradient."""

    def __init__(self, vectors: List[numpy.ndarray]) -> None:
        self.vectors = vectors
        self.grads: List[numpy.ndarray] = []

    def model(self) -> Model:
        def forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[list, object]:
            def backprop(d: List[numpy.ndarray]) -> List[Doc]:
                self.grads = [numpy.asarray(x).copy() for x in d]
                return docs
            return [v.copy() for v in self.vectors], backprop

        return Model("fixed", forward, dims={"nO": self.vectors[0].shape[1]})


@pytest.mark.parametrize("context,doc_features", [(True, True), (True, False), (False, True)])
def test_v2_pair_features_gradient_matches_finite_differences(
    nlp: Language, context: bool, doc_features: bool
) -> None:
    doc = lithium_doc(nlp)
    cands = EntityPairCandidates([["CHEMICAL", "DISEASE"]], 100)(doc)
    rng = numpy.random.default_rng(0)
    vecs = rng.normal(size=(len(doc), 4)).astype("float64")
    fixed = _FixedVectors([vecs])
    model = relation_model_v2(fixed.model(), hidden_width=8, context=context,
                              doc_features=doc_features, nO=1)
    features = model.layers[0]
    features.ops = NumpyOps()
    features.initialize(X=([doc], [cands]))
    out, backprop = features.begin_update(([doc], [cands]))
    weights = rng.normal(size=out.shape)
    backprop(weights.astype(out.dtype))
    analytic = fixed.grads[0]
    assert numpy.abs(analytic).sum() > 0
    eps = 1e-4
    for i, j in [(0, 0), (4, 1), (5, 2), (9, 3), (13, 0), (7, 1)]:
        for sign, store in ((1, "plus"), (-1, "minus")):
            fixed.vectors = [vecs.copy()]
            fixed.vectors[0][i, j] += sign * eps
            value = (features.predict(([doc], [cands])) * weights).sum()
            if store == "plus":
                plus = value
            else:
                minus = value
        assert (plus - minus) / (2 * eps) == pytest.approx(analytic[i, j], abs=1e-5)
    # Token 4 ("caused") reaches the output only through the context vector.
    assert (analytic[4] != 0).any() == context


def test_v3_attention_gradients_match_finite_differences(nlp: Language) -> None:
    doc = lithium_doc(nlp)
    cands = EntityPairCandidates([["CHEMICAL", "DISEASE"]], 100)(doc)
    rng = numpy.random.default_rng(1)
    vecs = rng.normal(size=(len(doc), 4)).astype("float64")
    fixed = _FixedVectors([vecs])
    model = relation_model_v3(fixed.model(), hidden_width=8, attention_width=3, nO=1)
    features = model.layers[0]
    features.ops = NumpyOps()
    features.initialize(X=([doc], [cands]))
    for name in ("att_q", "att_k"):  # float64 and larger, for a sharp finite difference
        features.set_param(name, 2.0 * features.get_param(name).astype("float64"))
    out, backprop = features.begin_update(([doc], [cands]))
    weights = rng.normal(size=out.shape)
    backprop(weights.astype(out.dtype))
    analytic = fixed.grads[0]
    eps = 1e-5

    def objective() -> float:
        return float((features.predict(([doc], [cands])) * weights).sum())

    # Token 6 ("in") is in no mention and between no mentions: only attention reaches it.
    assert (analytic[6] != 0).any()
    for i, j in [(0, 0), (6, 1), (9, 3), (2, 2)]:
        values = []
        for sign in (1, -1):
            fixed.vectors = [vecs.copy()]
            fixed.vectors[0][i, j] += sign * eps
            values.append(objective())
        assert (values[0] - values[1]) / (2 * eps) == pytest.approx(analytic[i, j], abs=1e-5)
    fixed.vectors = [vecs.copy()]
    for name in ("att_q", "att_k"):
        param = features.get_param(name)
        grad = features.get_grad(name)
        assert numpy.abs(grad).sum() > 0
        for idx in [(0, 0), (2, 3), (1, 1)]:
            values = []
            for sign in (1, -1):
                changed = param.copy()
                changed[idx] += sign * eps
                features.set_param(name, changed)
                values.append(objective())
            features.set_param(name, param)
            assert (values[0] - values[1]) / (2 * eps) == pytest.approx(grad[idx], abs=1e-5)


def test_v3_rejects_a_bad_attention_width() -> None:
    with pytest.raises(ValueError, match="attention_width"):
        relation_model_v3(Model("x", lambda m, x, t: (x, None)), attention_width=0)


def test_scaled_optimizer_multiplies_the_step() -> None:
    steps = {}
    for scale in (1.0, 10.0):
        sgd = Adam(0.001)
        weights = numpy.zeros((3,), dtype="f")
        grad = numpy.asarray([1.0, -2.0, 0.5], dtype="f")
        new, _ = ScaledOptimizer(sgd, scale)((1, "W"), weights.copy(), grad.copy())
        steps[scale] = numpy.abs(new).max()
        assert ScaledOptimizer(sgd, scale).learn_rate == sgd.learn_rate
    assert steps[10.0] == pytest.approx(10 * steps[1.0], rel=1e-3)


def test_finish_update_scaled_rejects_a_bad_scale() -> None:
    with pytest.raises(ValueError, match="head_lr_scale"):
        finish_update_scaled(Model("x", lambda m, X, t: (X, lambda d: d)), Adam(0.001), 0.0)


def test_head_lr_scale_is_kept_by_the_components(make_rel_nlp) -> None:  # type: ignore[no-untyped-def]
    nlp = make_rel_nlp()
    for name in ("ner_chemical", "relation_extractor"):
        if name in nlp.pipe_names:
            assert nlp.get_pipe(name).cfg["head_lr_scale"] == 1.0
    with pytest.raises(ValueError, match="head_lr_scale"):
        finish_update_scaled(nlp.get_pipe("relation_extractor").model, Adam(0.001), -1)


@pytest.mark.parametrize("component", ["ner_chemical", "relation_extractor"])
def test_bad_head_lr_scale_fails_when_the_pipeline_is_built(rel_config, component: str) -> None:  # type: ignore[no-untyped-def]
    rel_config["components"][component]["head_lr_scale"] = 0.0
    with pytest.raises(ValueError, match=f"{component}: head_lr_scale must be > 0"):
        spacy.util.load_model_from_config(rel_config, auto_fill=True, validate=True)
