"""The transformer as an ONNX graph: export, int8 quantization, checks and sessions.

The graph takes the inputs the tokenizer produces (``input_ids``, ``attention_mask``
and, for BERT-like models, ``token_type_ids``) with dynamic batch and sequence axes and
returns the model's outputs by name (``last_hidden_state``, and ``pooler_output`` where
the model has a pooler), so the listeners read the same ``last_hidden_state`` as from
PyTorch.
"""
import io
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy

from .precision import InferenceError, require_onnxruntime

logger = logging.getLogger("spacy_biobert.inference")

#: Inputs a Hugging Face encoder may take, in the order the graph declares them.
INPUT_NAMES: Tuple[str, ...] = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17
#: Largest absolute difference in ``last_hidden_state`` accepted between PyTorch and a
#: graph given by the user before it is taken for another model's.
MATCH_TOLERANCE = 1e-3


def example_inputs(model: Any, input_names: Sequence[str]) -> Dict[str, Any]:
    """A padded batch of two sequences, so the traced graph keeps the attention mask
    (Hugging Face skips the mask when no position is padded)."""
    import torch

    vocab = int(getattr(model.config, "vocab_size", 100))
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, max(6, vocab), (2, 8), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    values = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    return {name: values[name] for name in input_names}


def model_input_names(model: Any, tokenizer: Any) -> List[str]:
    """The graph's inputs: those the tokenizer produces that the model accepts."""
    import inspect

    accepted = set(inspect.signature(model.forward).parameters)
    produced = set(getattr(tokenizer, "model_input_names", INPUT_NAMES)) | {"input_ids",
                                                                            "attention_mask"}
    return [name for name in INPUT_NAMES if name in accepted and name in produced]


def export_graph(model: Any, tokenizer: Any) -> bytes:
    """Export a Hugging Face encoder to ONNX (opset 17, TorchScript exporter).

    model: The PyTorch transformer (``AutoModel``).
    tokenizer: Its tokenizer, for the input names.
    RETURNS (bytes): The serialized ONNX model.
    """
    import torch

    names = model_input_names(model, tokenizer)
    inputs = example_inputs(model, names)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        outputs = model(**inputs, return_dict=True)
    output_names = [key for key in ("last_hidden_state", "pooler_output") if key in outputs]
    wrapper = _named_outputs(model, names, output_names)
    axes: Dict[str, Dict[int, str]] = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    axes["pooler_output"] = {0: "batch"}
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            # The TorchScript exporter's deprecation notice and the tracer's notes on
            # constants (the mask helpers' shapes, which stay dynamic in the graph).
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapper, tuple(inputs[name] for name in names),
                              buffer,  # type: ignore[arg-type]
                              input_names=names, output_names=output_names,
                              dynamic_axes={k: v for k, v in axes.items()
                                            if k in names or k in output_names},
                              opset_version=OPSET, dynamo=False)
    finally:
        model.train(was_training)
    return buffer.getvalue()


def _named_outputs(model: Any, input_names: Sequence[str], output_names: Sequence[str]) -> Any:
    """A module taking the inputs positionally and returning the named outputs as a tuple,
    which is what the exporter traces."""
    import torch

    class NamedOutputs(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: Any) -> Tuple[Any, ...]:
            out = self.model(**dict(zip(input_names, tensors)), return_dict=True)
            return tuple(out[name] for name in output_names)

    return NamedOutputs()


def quantize_graph(graph: bytes) -> bytes:
    """Dynamic int8 quantization of the graph's weights (MatMul, Gemm, ...) by ONNX Runtime,
    one scale per output channel.

    graph (bytes): An fp32 ONNX model.
    RETURNS (bytes): The quantized model.
    """
    require_onnxruntime("onnx-int8")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(graph)
        # Its advice to pre-process the model first concerns static quantization.
        root = logging.getLogger()
        previous, root.disabled = root.disabled, True
        try:
            # One scale per output channel: per-tensor scales cost several NER F1 points
            # on the MiniLM (see docs/benchmarks.md), per-channel ones far less.
            quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.disabled = previous
        return dst.read_bytes()


def make_session(graph: bytes, threads: int, precision: str) -> Any:
    """An ONNX Runtime CPU session on ``graph``, all graph optimizations on.

    graph (bytes): The ONNX model.
    threads (int): Intra-op threads; inter-op work runs sequentially.
    precision (str): For the error when onnxruntime is missing.
    RETURNS (onnxruntime.InferenceSession): The session.
    """
    ort = require_onnxruntime(precision)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    # Idle pool threads sleep instead of spinning: the components after the transformer
    # (NER heads, linker, relations) run on the main thread meanwhile and need the cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def run_session(session: Any, inputs: Dict[str, Any]) -> Dict[str, numpy.ndarray]:
    """Run ``session`` on torch or numpy inputs; missing ``token_type_ids`` are zeros.

    RETURNS (Dict[str, numpy.ndarray]): The outputs by name.
    """
    feed = {}
    for arg in session.get_inputs():
        value = inputs.get(arg.name)
        if value is None and arg.name == "token_type_ids":
            value = numpy.zeros_like(_numpy(inputs["input_ids"]))
        if value is None:
            raise InferenceError(f"the ONNX graph needs the input {arg.name!r}, which the "
                                 "tokenizer does not produce")
        feed[arg.name] = _numpy(value).astype(numpy.int64, copy=False)
    names = [out.name for out in session.get_outputs()]
    return dict(zip(names, session.run(names, feed)))


def _numpy(value: Any) -> numpy.ndarray:
    return value.cpu().numpy() if hasattr(value, "cpu") else numpy.asarray(value)


def check_graph(session: Any, model: Any, tokenizer: Any, where: str) -> None:
    """Fail unless ``session`` computes ``model``'s ``last_hidden_state`` (to
    :data:`MATCH_TOLERANCE`) on a small padded batch.

    where (str): The graph's file, for the message.
    """
    import torch

    outputs = [out.name for out in session.get_outputs()]
    if "last_hidden_state" not in outputs:
        raise InferenceError(f"{where}: the ONNX graph has no 'last_hidden_state' output "
                             f"(outputs: {', '.join(outputs)}); export the transformer with "
                             "spacy_biobert.optimize or name that output last_hidden_state")
    inputs = example_inputs(model, model_input_names(model, tokenizer))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        expected = model(**inputs, return_dict=True).last_hidden_state.numpy()
    model.train(was_training)
    try:
        got = run_session(session, inputs)["last_hidden_state"]
    except Exception as err:  # onnxruntime raises its own exception types
        raise InferenceError(f"{where}: the ONNX graph does not run on this transformer's "
                             f"inputs ({err}); it was exported from another model") from None
    mask = inputs["attention_mask"].numpy().astype(bool)
    if got.shape != expected.shape or \
            float(numpy.abs(got - expected)[mask].max()) > MATCH_TOLERANCE:
        raise InferenceError(f"{where}: the ONNX graph does not compute this pipeline's "
                             "transformer (different outputs on the same input); it was "
                             "exported from another model or version")
