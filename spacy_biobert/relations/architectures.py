"""Registered model builders of the relation extractor.

``spacy-biobert.RelationModel.v1`` scores candidate mention pairs from the token
vectors of a (shared) transformer listener:

1. mention vector = mean of *all* its token vectors (multi-token names are common);
2. entity vector = mean of the vectors of all mentions of the same entity in the
   document, which carries information across sentences (a disease named in the
   title and in the conclusion);
3. pair features = [head, tail, head * tail, head entity, tail entity,
   head entity * tail entity, token-gap bucket x direction one-hot];
4. a ReLU hidden layer and a linear layer give one logit per relation label.
"""
from typing import Any, Callable, List, Optional, Tuple

import numpy
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model, Relu, chain
from thinc.types import Floats2d

from .candidates import N_DISTANCE_FEATURES, Candidates

RelationInput = Tuple[List[Doc], List[Candidates]]

#: Vectors per pair built from the token width (head, tail, product; same for entities).
N_VECTOR_BLOCKS = 6


@registry.architectures("spacy-biobert.RelationModel.v1")
def relation_model(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 256,
    dropout: float = 0.1,
    nO: Optional[int] = None,
) -> Model[RelationInput, Floats2d]:
    """Score candidate mention pairs (see module docs).

    tok2vec (Model[List[Doc], List[Floats2d]]): Token vectors, usually a
        ``spacy-transformers.TransformerListener.v1`` on the shared transformer.
    hidden_width (int): Width of the hidden layer.
    dropout (float): Dropout on the hidden layer while training.
    nO (Optional[int]): Number of relation labels (set by the component).
    RETURNS (Model[Tuple[List[Doc], List[Candidates]], Floats2d]): One row of logits
        per candidate pair, documents in order.
    """
    instances: Model[RelationInput, Floats2d] = Model(
        "relation_pair_features",
        _pair_forward,
        init=_pair_init,
        layers=[tok2vec],
        refs={"tok2vec": tok2vec},
        dims={"nO": None},
    )
    classifier: Model[Floats2d, Floats2d] = chain(
        Relu(nO=hidden_width, dropout=dropout), Linear(nO=nO)
    )
    model: Model[RelationInput, Floats2d] = chain(instances, classifier)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", classifier.layers[-1])
    return model


def _pair_init(
    model: Model, X: Optional[RelationInput] = None, Y: Optional[Floats2d] = None
) -> None:
    tok2vec = model.layers[0]
    tok2vec.initialize(X=X[0] if X is not None else None)
    width = tok2vec.get_dim("nO") if tok2vec.has_dim("nO") else None
    if not width:
        listener = next((n for n in tok2vec.walk() if n.name == "transformer-listener"), None)
        if listener is not None and listener.has_dim("nO"):
            width = listener.get_dim("nO")
    if not width:
        raise ValueError(
            "RelationModel: the token-vector width is unknown; initialize the "
            "transformer (the listener's upstream) before the relation extractor"
        )
    model.set_dim("nO", N_VECTOR_BLOCKS * width + N_DISTANCE_FEATURES)


def _pooling_matrices(cands: Candidates, n_tokens: int) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """(mentions x tokens) and (entities x mentions) averaging matrices."""
    mention_pool = numpy.zeros((len(cands.mentions), n_tokens), dtype="f")
    for m, span in enumerate(cands.mentions):
        mention_pool[m, span.start:span.end] = 1.0 / max(1, span.end - span.start)
    groups = cands.groups()
    n_groups = max(groups) + 1 if groups else 0
    entity_pool = numpy.zeros((n_groups, len(cands.mentions)), dtype="f")
    for m, g in enumerate(groups):
        entity_pool[g, m] = 1.0
    entity_pool /= numpy.maximum(entity_pool.sum(axis=1, keepdims=True), 1.0)
    return mention_pool, entity_pool


def _pair_forward(
    model: Model, inputs: RelationInput, is_train: bool
) -> Tuple[Floats2d, Callable[[Floats2d], RelationInput]]:
    docs, cands_list = inputs
    ops = model.ops
    xp = ops.xp
    tokvecs, bp_tokvecs = model.layers[0](docs, is_train)
    n_out = model.get_dim("nO")
    width = (n_out - N_DISTANCE_FEATURES) // N_VECTOR_BLOCKS
    outputs = []
    saved: List[Optional[Tuple[Any, ...]]] = []
    for vecs, cands in zip(tokvecs, cands_list):
        if not len(cands):
            saved.append(None)
            continue
        m_np, e_np = _pooling_matrices(cands, vecs.shape[0])
        mpool, epool = ops.asarray2f(m_np), ops.asarray2f(e_np)  # type: ignore[arg-type]
        mvec = mpool @ vecs
        evec = epool @ mvec
        groups = xp.asarray(cands.groups(), dtype="i")
        heads = xp.asarray([p[0] for p in cands.pairs], dtype="i")
        tails = xp.asarray([p[1] for p in cands.pairs], dtype="i")
        h, t = mvec[heads], mvec[tails]
        he, te = evec[groups[heads]], evec[groups[tails]]
        dist = ops.alloc2f(len(cands), N_DISTANCE_FEATURES)
        dist[xp.arange(len(cands)), xp.asarray(cands.distances, dtype="i")] = 1.0
        outputs.append(xp.hstack((h, t, h * t, he, te, he * te, dist)))
        saved.append((mpool, epool, groups, heads, tails, h, t, he, te))
    output = xp.vstack(outputs) if outputs else ops.alloc2f(0, n_out)

    def backprop(d_output: Floats2d) -> RelationInput:
        d_tokvecs = []
        row = 0
        for vecs, cands, keep in zip(tokvecs, cands_list, saved):
            if keep is None:
                d_tokvecs.append(ops.alloc2f(*vecs.shape))
                continue
            mpool, epool, groups, heads, tails, h, t, he, te = keep
            d = d_output[row:row + len(cands)]
            row += len(cands)
            blocks = [d[:, i * width:(i + 1) * width] for i in range(N_VECTOR_BLOCKS)]
            d_h = blocks[0] + blocks[2] * t
            d_t = blocks[1] + blocks[2] * h
            d_he = blocks[3] + blocks[5] * te
            d_te = blocks[4] + blocks[5] * he
            d_evec = ops.alloc2f(epool.shape[0], width)
            ops.scatter_add(d_evec, groups[heads], d_he)
            ops.scatter_add(d_evec, groups[tails], d_te)
            d_mvec = epool.T @ d_evec
            ops.scatter_add(d_mvec, heads, d_h)
            ops.scatter_add(d_mvec, tails, d_t)
            d_tokvecs.append(mpool.T @ d_mvec)
        bp_tokvecs(d_tokvecs)
        return docs, cands_list

    return output, backprop
