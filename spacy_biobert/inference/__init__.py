"""Fast CPU inference for the shared transformer: :func:`optimize` swaps the
spacy-transformers ``transformer`` component's Hugging Face model for a cheaper one
(PyTorch dynamic int8, or ONNX Runtime in fp32 or int8) without touching the components
that listen to it. The modules:

- ``precision``: the precision names and the errors of this package.
- ``onnx_graph``: exporting the transformer to ONNX, int8 quantization, ONNX Runtime sessions.
- ``shim``: the Thinc shim that runs the optimized transformer and serializes it.
- ``architecture``: ``spacy-biobert.OptimizedTransformerModel.v1``, which rebuilds an
  optimized transformer when a saved pipeline is loaded.
- ``optimize``: :func:`optimize` itself.
"""
from .optimize import optimize, pipeline_precision
from .precision import PRECISIONS, InferenceError

__all__ = ["PRECISIONS", "InferenceError", "optimize", "pipeline_precision"]
