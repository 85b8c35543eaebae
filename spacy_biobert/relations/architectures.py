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

``spacy-biobert.RelationModel.v3`` adds, per pair:

7. a pair-specific attention context over *all* tokens of the document (in the
   spirit of ATLOP's localized context pooling): the pair's query is a learned
   projection of its two entity vectors, each token's key a learned projection of
   its vector, and the context is the softmax-weighted mean of the token vectors.
   It can find the words that tie a chemical to a disease in another sentence,
   which the between-mentions mean (5) cannot.

v2 and v3 take ``prior = true`` to add, per pair:

8. the training-set relation prior (:mod:`.memory`): whether and how often the
   entity pair, and each entity, took part in a relation in the *other* training
   documents. The component builds the memory when it is initialized.
"""
from typing import Any, Callable, List, Optional, Tuple

import numpy
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model, Relu, chain
from thinc.types import Floats2d

from .candidates import N_DISTANCE_FEATURES, N_PAIR_FEATURES, Candidates
from .memory import N_PRIOR_FEATURES

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
    prior: bool = False,
    nO: Optional[int] = None,
) -> Model[RelationInput, Floats2d]:
    """Score candidate mention pairs with context and document features (module docs).

    tok2vec (Model[List[Doc], List[Floats2d]]): Token vectors (the shared listener).
    hidden_width (int): Width of the hidden layer.
    dropout (float): Dropout on the hidden layer while training.
    context (bool): Add the mean of the tokens between the mentions of a pair.
    doc_features (bool): Add the document-level pair features.
    prior (bool): Add the training-set relation prior (module docs, 8).
    nO (Optional[int]): Number of relation labels (set by the component).
    RETURNS (Model[Tuple[List[Doc], List[Candidates]], Floats2d]): One row of logits
        per candidate pair, documents in order.
    """
    return _build(tok2vec, hidden_width, dropout, nO, context=context,
                  doc_features=doc_features, prior=prior)


@registry.architectures("spacy-biobert.RelationModel.v3")
def relation_model_v3(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 256,
    dropout: float = 0.1,
    context: bool = True,
    doc_features: bool = True,
    attention_width: int = 64,
    prior: bool = False,
    nO: Optional[int] = None,
) -> Model[RelationInput, Floats2d]:
    """v2 plus a pair-specific attention context over the document (module docs).

    The other arguments and the result are those of ``RelationModel.v2``.
    attention_width (int): Width of the attention's queries and keys.
    """
    if attention_width < 1:
        raise ValueError(f"RelationModel.v3: attention_width must be >= 1, got {attention_width}")
    return _build(tok2vec, hidden_width, dropout, nO, context=context,
                  doc_features=doc_features, attention_width=attention_width, prior=prior)


def _build(tok2vec: Model, hidden_width: int, dropout: float, nO: Optional[int], *,
           context: bool, doc_features: bool, attention_width: int = 0,
           prior: bool = False) -> Model[RelationInput, Floats2d]:
    instances: Model[RelationInput, Floats2d] = Model(
        "relation_pair_features",
        _pair_forward,
        init=_pair_init,
        layers=[tok2vec],
        refs={"tok2vec": tok2vec},
        dims={"nO": None},
        params={"att_q": None, "att_k": None} if attention_width else {},
        attrs={"context": bool(context), "doc_features": bool(doc_features),
               "attention_width": int(attention_width), "prior": bool(prior)},
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
    att = int(model.attrs.get("attention_width") or 0)
    if att:
        # Glorot-scaled: queries and keys start with unit-variance scores, so the first
        # attention is close to a plain mean over the document.
        rng = numpy.random.default_rng(0)
        att_q = rng.normal(0.0, (1.0 / (2 * width)) ** 0.5, (att, 2 * width)).astype("f")
        att_k = rng.normal(0.0, (1.0 / width) ** 0.5, (att, width)).astype("f")
        model.set_param("att_q", model.ops.asarray2f(att_q))  # type: ignore[arg-type]
        model.set_param("att_k", model.ops.asarray2f(att_k))  # type: ignore[arg-type]


def _n_blocks(model: Model) -> int:
    return (N_VECTOR_BLOCKS + (1 if model.attrs.get("context") else 0)
            + (1 if model.attrs.get("attention_width") else 0))


def _n_extra(model: Model) -> int:
    return (N_DISTANCE_FEATURES + (N_PAIR_FEATURES if model.attrs.get("doc_features") else 0)
            + (N_PRIOR_FEATURES if model.attrs.get("prior") else 0))


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
    use_prior = bool(model.attrs.get("prior"))
    att = int(model.attrs.get("attention_width") or 0)
    att_scale = 1.0 / float(att) ** 0.5 if att else 0.0
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
        attn = None
        if att:
            attn = _attend(model, vecs, xp.hstack([he, te]), att_scale)
            blocks.append(attn[0])
        blocks.append(dist)
        if use_features:
            blocks.append(_feature_block(ops, cands.features, len(cands), N_PAIR_FEATURES))
        if use_prior:
            blocks.append(_feature_block(ops, cands.prior, len(cands), N_PRIOR_FEATURES))
        outputs.append(xp.hstack(blocks))
        saved.append((mpool, epool, groups, heads, tails, h, t, he, te, cpool, attn))
    output = xp.vstack(outputs) if outputs else ops.alloc2f(0, n_out)

    def backprop(d_output: Floats2d) -> RelationInput:
        d_tokvecs = []
        row = 0
        for vecs, cands, keep in zip(tokvecs, cands_list, saved):
            if keep is None:
                d_tokvecs.append(ops.alloc2f(*vecs.shape))
                continue
            mpool, epool, groups, heads, tails, h, t, he, te, cpool, attn = keep
            d = d_output[row:row + len(cands)]
            row += len(cands)
            blocks = [d[:, i * width:(i + 1) * width] for i in range(n_blocks)]
            d_h = blocks[0] + blocks[2] * t
            d_t = blocks[1] + blocks[2] * h
            d_he = blocks[3] + blocks[5] * te
            d_te = blocks[4] + blocks[5] * he
            d_att_vecs = None
            if attn is not None:
                d_query, d_att_vecs = _attend_backprop(model, vecs, attn, blocks[n_blocks - 1],
                                                       att_scale)
                d_he = d_he + d_query[:, :width]
                d_te = d_te + d_query[:, width:]
            d_evec = ops.alloc2f(epool.shape[0], width)
            ops.scatter_add(d_evec, groups[heads], d_he)
            ops.scatter_add(d_evec, groups[tails], d_te)
            d_mvec = epool.T @ d_evec
            ops.scatter_add(d_mvec, heads, d_h)
            ops.scatter_add(d_mvec, tails, d_t)
            d_vecs = mpool.T @ d_mvec
            if cpool is not None:
                d_vecs += cpool.T @ blocks[N_VECTOR_BLOCKS]
            if d_att_vecs is not None:
                d_vecs += d_att_vecs
            d_tokvecs.append(d_vecs)
        bp_tokvecs(d_tokvecs)
        return docs, cands_list

    return output, backprop


def _feature_block(ops: Any, rows: List[List[float]], n_pairs: int, width: int) -> Floats2d:
    """Per-pair feature rows as an array; zeros when the candidates carry none (a
    generator without document features, or a component without a prior memory)."""
    block = numpy.asarray(rows, dtype="f").reshape(-1, width)
    if block.shape[0] != n_pairs:
        block = numpy.zeros((n_pairs, width), dtype="f")
    return ops.asarray2f(block)


def _attend(model: Model, vecs: Floats2d, query_in: Floats2d,
            scale: float) -> Tuple[Floats2d, Floats2d, Floats2d, Floats2d, Floats2d]:
    """Pair-specific attention over the tokens of one document.

    RETURNS: (context per pair, attention weights, queries, keys, query inputs).
    """
    xp = model.ops.xp
    keys = vecs @ model.get_param("att_k").T  # tokens x att
    queries = query_in @ model.get_param("att_q").T  # pairs x att
    scores = (queries @ keys.T) * scale
    scores = scores - scores.max(axis=1, keepdims=True)
    weights = xp.exp(scores)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights @ vecs, weights, queries, keys, query_in


def _attend_backprop(model: Model, vecs: Floats2d, saved: Tuple[Floats2d, ...],
                     d_context: Floats2d, scale: float) -> Tuple[Floats2d, Floats2d]:
    """Gradients of :func:`_attend`; RETURNS (d query inputs, d token vectors), and adds
    the gradients of the query and key projections to the model."""
    _, weights, queries, keys, query_in = saved
    d_weights = d_context @ vecs.T
    d_vecs = weights.T @ d_context
    d_scores = weights * (d_weights - (d_weights * weights).sum(axis=1, keepdims=True)) * scale
    d_queries = d_scores @ keys
    d_keys = d_scores.T @ queries
    model.inc_grad("att_k", d_keys.T @ vecs)
    model.inc_grad("att_q", d_queries.T @ query_in)
    d_vecs += d_keys @ model.get_param("att_k")
    return d_queries @ model.get_param("att_q"), d_vecs
