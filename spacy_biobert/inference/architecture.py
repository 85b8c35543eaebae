"""``spacy-biobert.OptimizedTransformerModel.v1``: spacy-transformers'
``TransformerModel`` (same tokenizer, spans, alignment and outputs) whose Hugging Face
model runs at an inference precision.

:func:`spacy_biobert.optimize` writes it into the ``transformer`` component's config, so
a pipeline saved after optimizing loads optimized with ``spacy.load``; its model file then
holds the int8 state or the ONNX graph (see :mod:`spacy_biobert.inference.shim`).
"""
from typing import Any, Callable, Dict, List, Optional

from spacy.tokens import Doc
from spacy.util import SimpleFrozenDict, registry
from spacy_transformers.data_classes import FullTransformerBatch
from spacy_transformers.layers.transformer_model import TransformerModel
from thinc.api import Model

from .precision import check_precision
from .shim import OptimizedShim


@registry.architectures("spacy-biobert.OptimizedTransformerModel.v1")
def optimized_transformer_model(
    name: str,
    get_spans: Callable,
    tokenizer_config: Dict[str, Any] = SimpleFrozenDict(),
    transformer_config: Dict[str, Any] = SimpleFrozenDict(),
    mixed_precision: bool = False,
    grad_scaler_config: Dict[str, Any] = SimpleFrozenDict(),
    precision: str = "onnx-int8",
    threads: Optional[int] = None,
) -> Model[List[Doc], FullTransformerBatch]:
    """A ``TransformerModel`` for inference at ``precision``.

    name (str): The Hugging Face model it was trained from (not read on load: the
        weights or graph come from the saved pipeline).
    get_spans (Callable[[List[Doc]], List[List[Span]]]): The windows the transformer sees.
    tokenizer_config (dict), transformer_config (dict), mixed_precision (bool),
        grad_scaler_config (dict): As in ``spacy-transformers.TransformerModel.v3``.
    precision (str): int8, onnx or onnx-int8.
    threads (Optional[int]): ONNX Runtime intra-op threads; None: torch's thread count
        when the session starts.
    RETURNS (Model[List[Doc], FullTransformerBatch]): The model.
    """
    check_precision(precision)
    model = TransformerModel(name, get_spans, dict(tokenizer_config), dict(transformer_config),
                             mixed_precision=mixed_precision,
                             grad_scaler_config=dict(grad_scaler_config))
    fp32: Any = model.layers[0].shims[0]
    model.layers[0].shims[0] = OptimizedShim(fp32._hfmodel, precision=precision,
                                             threads=threads,
                                             grad_scaler_config=dict(grad_scaler_config))
    return model
