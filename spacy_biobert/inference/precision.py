"""The inference precisions and the errors raised while optimizing a pipeline."""
from typing import Tuple

from ..extras import require

#: fp32: PyTorch as trained; int8: PyTorch dynamic int8 of every Linear layer;
#: onnx: ONNX Runtime (CPU, all graph optimizations); onnx-int8: ONNX Runtime with
#: dynamic int8 weights.
PRECISIONS: Tuple[str, ...] = ("fp32", "int8", "onnx", "onnx-int8")
ONNX_PRECISIONS: Tuple[str, ...] = ("onnx", "onnx-int8")


class InferenceError(ValueError):
    """A pipeline cannot be optimized or loaded as asked; the message says why."""


def check_precision(precision: str) -> str:
    """Return ``precision`` if it is one of :data:`PRECISIONS`, else raise.

    precision (str): The name to check.
    RETURNS (str): The same name.
    """
    if precision not in PRECISIONS:
        raise InferenceError(f"unsupported precision {precision!r}; choose one of "
                             f"{', '.join(PRECISIONS)}")
    return precision


def require_onnxruntime(precision: str):  # type: ignore[no-untyped-def]
    """Import onnxruntime or raise :class:`MissingExtraError` naming the ``onnx`` extra."""
    return require("onnxruntime", "onnx", f"precision {precision!r}")
