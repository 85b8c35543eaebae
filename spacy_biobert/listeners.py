"""Helpers for components that listen to the shared transformer."""
from typing import List

from spacy.tokens import Doc
from thinc.api import Model

#: The ``model.tok2vec`` block of a component's default model: a listener on the
#: shared transformer, mean-pooled over word pieces.
LISTENER_CONFIG = """
[model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0
upstream = "*"

[model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""


def release_listener(tok2vec: Model, docs: List[Doc]) -> None:
    """Give the shared transformer a zero gradient through ``tok2vec``'s listener.

    The transformer backpropagates only once its *last* listener has been called; a
    component that skips a batch (no gold for it) would otherwise make the
    transformer silently skip its update. Only ``tok2vec`` runs, so the component's
    own layers get no gradient.
    """
    listener = next((n for n in tok2vec.walk() if n.name == "transformer-listener"), None)
    if listener is None or getattr(listener, "_backprop", None) is None:
        return
    output, backprop = tok2vec.begin_update(docs)
    ops = tok2vec.ops
    if isinstance(output, list):
        backprop([ops.alloc(o.shape, dtype=o.dtype) for o in output])
    else:
        backprop(ops.alloc(output.shape, dtype=output.dtype))
