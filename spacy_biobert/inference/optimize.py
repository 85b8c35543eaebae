""":func:`optimize`: run a loaded pipeline's transformer at a cheaper precision."""
from pathlib import Path
from typing import Any, List, Optional, Tuple, Union

from spacy.language import Language

from ..extras import require
from .precision import ONNX_PRECISIONS, InferenceError, check_precision, require_onnxruntime

ARCHITECTURE = "spacy-biobert.OptimizedTransformerModel.v1"
#: Where :func:`optimize` records the precision in ``nlp.meta``.
META_KEY = "spacy_biobert_precision"


def transformer_pipes(nlp: Language) -> List[Tuple[str, Any]]:
    """The spacy-transformers ``Transformer`` components of ``nlp``, or an error."""
    from spacy_transformers import Transformer

    pipes = [(name, pipe) for name, pipe in nlp.pipeline if isinstance(pipe, Transformer)]
    if not pipes:
        raise InferenceError(
            "the pipeline has no spacy-transformers 'transformer' component to optimize "
            f"(components: {', '.join(nlp.pipe_names) or 'none'})")
    return pipes


def component_precision(pipe: Any) -> str:
    """The precision a ``Transformer`` component runs at."""
    from .shim import OptimizedShim

    shim = pipe.model.layers[0].shims[0]
    return shim.precision if isinstance(shim, OptimizedShim) else "fp32"


def pipeline_precision(nlp: Language) -> str:
    """The precision of ``nlp``'s (first) transformer component."""
    return component_precision(transformer_pipes(nlp)[0][1])


def optimize(nlp: Language, precision: str = "onnx-int8", *, threads: Optional[int] = None,
             onnx_file: Optional[Union[str, Path]] = None) -> Language:
    """Run ``nlp``'s transformer at ``precision``, in place; the components listening
    to it are unchanged. ``nlp.to_disk`` then saves the optimized pipeline (the config
    names the precision) and ``spacy.load`` loads it optimized.

    nlp (Language): A loaded pipeline with a spacy-transformers ``transformer``.
    precision (str): fp32 (nothing changes), int8 (PyTorch dynamic int8 of the Linear
        layers), onnx (ONNX Runtime, CPU) or onnx-int8 (ONNX Runtime, int8 weights).
    threads (Optional[int]): ONNX Runtime intra-op threads; None: torch's thread count.
    onnx_file (Optional[Path]): An ONNX export of this transformer to use instead of
        exporting it (checked to compute the same outputs).
    RETURNS (Language): ``nlp``.
    """
    check_precision(precision)
    if precision in ONNX_PRECISIONS:
        require_onnxruntime(precision)
        # The exporter and the quantizer need it; loading a saved graph does not.
        require("onnx", "onnx", f"precision {precision!r} (the ONNX export)")
    elif onnx_file is not None:
        raise InferenceError(f"onnx_file is for the precisions {', '.join(ONNX_PRECISIONS)}, "
                             f"not {precision!r}")
    for name, pipe in transformer_pipes(nlp):
        current = component_precision(pipe)
        if current == precision:
            continue
        if current != "fp32":
            raise InferenceError(f"component {name!r} already runs at {current}; load the "
                                 f"fp32 pipeline to run it at {precision}")
        _swap(nlp, name, pipe, precision, threads, onnx_file)
    nlp.meta[META_KEY] = precision
    return nlp


def _swap(nlp: Language, name: str, pipe: Any, precision: str, threads: Optional[int],
          onnx_file: Optional[Union[str, Path]]) -> None:
    from .shim import OptimizedShim

    wrapper = pipe.model.layers[0]
    fp32 = wrapper.shims[0]
    if fp32._hfmodel.transformer is None:
        raise InferenceError(f"component {name!r} has no transformer weights yet: "
                             "initialize or load the pipeline first")
    shim = OptimizedShim(fp32._hfmodel, precision=precision, threads=threads,
                         mixed_precision=fp32._mixed_precision)
    shim.optimize_from(fp32._hfmodel, Path(onnx_file) if onnx_file is not None else None)
    wrapper.shims[0] = shim
    model_cfg = nlp.get_pipe_config(name)["model"]
    model_cfg["@architectures"] = ARCHITECTURE
    model_cfg["precision"] = precision
    model_cfg["threads"] = threads
