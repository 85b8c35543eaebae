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

``spacy-biobert.RelationModel.v2`` adds, per pair:

5. a context vector: the mean of the tokens *between* the two mentions when they
   are in one sentence (the words that state a relation: "X-induced Y", "Y after X");
6. document-level features (:data:`~.candidates.PAIR_FEATURES`): how often and
   where each entity is named (title, first mention), whether the entity pair
   shares a sentence anywhere in the document, sentence distances.
"""
from typing import Any, Callable, List, Optional, Tuple

import numpy
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model, Relu, chain
from thinc.types import Floats2d

from .candidates import N_DISTANCE_FEATURES, N_PAIR_FEATURES, Candidates

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
    return _build(tok2vec, hidden_width, dropout, nO, context=False, doc_features=False)


@registry.architectures("spacy-biobert.RelationModel.v2")
def relation_model_v2(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 256,
    dropout: float = 0.1,
    context: bool = True,
    doc_features: bool = True,
    nO: Optional[int] = None,
) -> Model[RelationInput, Floats2d]:
    """Score candidate mention pairs with context and document features (module docs).

    tok2vec (Model[List[Doc], List[Floats2d]]): Token vectors (the shared listener).
    hidden_width (int): Width of the hidden layer.
    dropout (float): Dropout on the hidden layer while training.
    context (bool): Add the mean of the tokens between the mentions of a pair.
    doc_features (bool): Add the document-level pair features.
    nO (Optional[int]): Number of relation labels (set by the component).
    RETURNS (Model[Tuple[List[Doc], List[Candidates]], Floats2d]): One row of logits
        per candidate pair, documents in order.
    """
    return _build(tok2vec, hidden_width, dropout, nO, context=context,
                  doc_features=doc_features)


def _build(tok2vec: Model, hidden_width: int, dropout: float, nO: Optional[int], *,
           context: bool, doc_features: bool) -> Model[RelationInput, Floats2d]:
    instances: Model[RelationInput, Floats2d] = Model(
        "relation_pair_features",
        _pair_forward,
        init=_pair_init,
        layers=[tok2vec],
        refs={"tok2vec": tok2vec},
        dims={"nO": None},
        attrs={"context": bool(context), "doc_features": bool(doc_features)},
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
    model.set_dim("nO", _n_blocks(model) * width + _n_extra(model))


def _n_blocks(model: Model) -> int:
    return N_VECTOR_BLOCKS + (1 if model.attrs.get("context") else 0)


def _n_extra(model: Model) -> int:
    return N_DISTANCE_FEATURES + (N_PAIR_FEATURES if model.attrs.get("doc_features") else 0)


def _pooling_matrices(cands: Candidates, n_tokens: int) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """(mentions x tokens) and (entities x mentions) averaging matrices."""
    mention_pool = _range_means([(s.start, s.end) for s in cands.mentions], n_tokens)
    groups = cands.groups()
    n_groups = max(groups) + 1 if groups else 0
    entity_pool = numpy.zeros((n_groups, len(cands.mentions)), dtype="f")
    for m, g in enumerate(groups):
        entity_pool[g, m] = 1.0
    entity_pool /= numpy.maximum(entity_pool.sum(axis=1, keepdims=True), 1.0)
    return mention_pool, entity_pool


def _range_means(ranges: List[Tuple[int, int]], n_tokens: int) -> numpy.ndarray:
    """(ranges x tokens) matrix averaging the tokens of each [start, end) range; an
    empty range gives a row of zeros."""
    pool = numpy.zeros((len(ranges), n_tokens), dtype="f")
    for k, (start, end) in enumerate(ranges):
        if end > start:
            pool[k, start:end] = 1.0 / (end - start)
    return pool


def _context_matrix(cands: Candidates, n_tokens: int) -> numpy.ndarray:
    """(pairs x tokens) matrix averaging the tokens between the mentions of a pair."""
    return _range_means(cands.contexts or [(0, 0)] * len(cands), n_tokens)


def _pair_forward(
    model: Model, inputs: RelationInput, is_train: bool
) -> Tuple[Floats2d, Callable[[Floats2d], RelationInput]]:
    docs, cands_list = inputs
    ops = model.ops
    xp = ops.xp
    tokvecs, bp_tokvecs = model.layers[0](docs, is_train)
    n_out = model.get_dim("nO")
    use_context = bool(model.attrs.get("context"))
    use_features = bool(model.attrs.get("doc_features"))
    n_blocks = _n_blocks(model)
    width = (n_out - _n_extra(model)) // n_blocks
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
        blocks = [h, t, h * t, he, te, he * te]
        cpool = None
        if use_context:
            cpool = ops.asarray2f(_context_matrix(cands, vecs.shape[0]))  # type: ignore[arg-type]
            blocks.append(cpool @ vecs)
        blocks.append(dist)
        if use_features:
            feats = numpy.asarray(cands.features, dtype="f").reshape(-1, N_PAIR_FEATURES)
            if feats.shape[0] != len(cands):  # candidates from a generator without them
                feats = numpy.zeros((len(cands), N_PAIR_FEATURES), dtype="f")
            blocks.append(ops.asarray2f(feats))  # type: ignore[arg-type]
        outputs.append(xp.hstack(blocks))
        saved.append((mpool, epool, groups, heads, tails, h, t, he, te, cpool))
    output = xp.vstack(outputs) if outputs else ops.alloc2f(0, n_out)

    def backprop(d_output: Floats2d) -> RelationInput:
        d_tokvecs = []
        row = 0
        for vecs, cands, keep in zip(tokvecs, cands_list, saved):
            if keep is None:
                d_tokvecs.append(ops.alloc2f(*vecs.shape))
                continue
            mpool, epool, groups, heads, tails, h, t, he, te, cpool = keep
            d = d_output[row:row + len(cands)]
            row += len(cands)
            blocks = [d[:, i * width:(i + 1) * width] for i in range(n_blocks)]
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
            d_vecs = mpool.T @ d_mvec
            if cpool is not None:
                d_vecs += cpool.T @ blocks[N_VECTOR_BLOCKS]
            d_tokvecs.append(d_vecs)
        bp_tokvecs(d_tokvecs)
        return docs, cands_list

    return output, backprop
