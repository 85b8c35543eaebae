"""Registered model builders for the NER heads."""
from typing import Callable, List, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d


@registry.architectures("spacy-biobert.ListenerWithTokenFeatures.v1")
def listener_with_token_features(
    listener: Model[List[Doc], List[Floats2d]],
    features: Model[List[Doc], List[Floats2d]],
) -> Model[List[Doc], List[Floats2d]]:
    """Token vectors = the shared transformer's output ‖ small per-head features.

    The embedded MiniLM is uncased and general-domain: a wordpiece view loses the
    capitalization, digits and affixes that mark chemical and gene names
    (``IL-2``, ``-mab``, ``-ase``). ``features`` (e.g. ``spacy.Tok2Vec.v2`` over
    NORM, PREFIX, SUFFIX and SHAPE hash embeddings) adds them back beside the
    transformer output; only the transformer part is shared between heads.

    listener (Model[List[Doc], List[Floats2d]]): A TransformerListener.
    features (Model[List[Doc], List[Floats2d]]): Any token-to-vector model.
    RETURNS (Model[List[Doc], List[Floats2d]]): One concatenated vector per token.
    """
    return Model(
        "listener_with_token_features",
        _concat_forward,
        init=_concat_init,
        layers=[listener, features],
        dims={"nO": None},
    )


def _concat_init(model: Model, X: List[Doc] = None, Y: List[Floats2d] = None) -> None:  # type: ignore[assignment]
    for layer in model.layers:
        layer.initialize(X=X)
    if all(layer.has_dim("nO") for layer in model.layers):
        model.set_dim("nO", sum(layer.get_dim("nO") for layer in model.layers))


def _concat_forward(
    model: Model, docs: List[Doc], is_train: bool
) -> Tuple[List[Floats2d], Callable[[List[Floats2d]], List[Doc]]]:
    listener, features = model.layers
    left, bp_left = listener(docs, is_train)
    right, bp_right = features(docs, is_train)
    width = left[0].shape[1] if left else listener.get_dim("nO")
    outputs = [model.ops.xp.hstack((a, b)) for a, b in zip(left, right)]

    def backprop(d_outputs: List[Floats2d]) -> List[Doc]:
        bp_right([d[:, width:] for d in d_outputs])
        bp_left([model.ops.xp.ascontiguousarray(d[:, :width]) for d in d_outputs])
        return []

    return outputs, backprop
