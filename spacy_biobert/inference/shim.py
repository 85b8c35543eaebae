"""The Thinc shim that runs an optimized transformer in place of spacy-transformers'
``HFShim``, and saves it inside the ``transformer`` component's model file.

It keeps ``HFShim``'s interface (``_hfmodel.tokenizer``, ``_hfmodel.transformer.device``,
``predict`` returning a Hugging Face ``ModelOutput`` with ``last_hidden_state``), so the
``TransformerModel`` around it, the listeners and every component after it run unchanged.
What it saves: the Hugging Face config, the tokenizer files, and the int8 PyTorch state
(``int8``) or the ONNX graph with its sha256 (``onnx``, ``onnx-int8``): no fp32 weights.
"""
import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import srsly
import torch
from spacy_transformers.data_classes import HFObjects
from spacy_transformers.layers.hf_shim import HFShim
from thinc.types import ArgsKwargs
from transformers.modeling_outputs import BaseModelOutput, BaseModelOutputWithPooling

from .batching import run_by_length
from .onnx_graph import check_graph, export_graph, make_session, quantize_graph, run_session
from .precision import ONNX_PRECISIONS, InferenceError

#: Sessions a forked process inherited; kept, never destroyed in that process.
INHERITED_SESSIONS: List[Any] = []
#: Version of what :meth:`OptimizedShim.to_bytes` writes; another one is refused on load.
FORMAT = 1
FORMAT_KEY = "spacy_biobert_inference"


class ConfigOnly(torch.nn.Module):
    """Stands in for the PyTorch transformer under ONNX Runtime: the config and the
    device are all that spacy-transformers reads from it."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")


def quantize_torch(model: Any) -> Any:
    """PyTorch dynamic int8 quantization of every ``torch.nn.Linear`` (weights int8 with
    one scale per output channel, activations quantized per batch)."""
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        # torch.ao.quantization's notice that the API moves to torchao.
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig},
                                dtype=torch.qint8)


class OptimizedShim(HFShim):
    """Runs the transformer at ``precision`` (int8, onnx or onnx-int8), inference only."""

    def __init__(self, hf_model: HFObjects, *, precision: str, threads: Optional[int] = None,
                 **kwargs: Any) -> None:
        super().__init__(hf_model, **kwargs)
        self.precision = precision
        self.threads = threads
        self.graph = b""
        self._optimized = False
        self._session: Any = None
        self._session_key: Tuple[int, int] = (-1, -1)

    # --- building -------------------------------------------------------------------

    def optimize_from(self, hf_model: HFObjects, graph_file: Optional[Path] = None) -> None:
        """Take the fp32 transformer of ``hf_model`` and make this shim's runtime from it.

        graph_file (Optional[Path]): An ONNX export of the same transformer to use instead
            of exporting one (it is checked against the PyTorch model).
        """
        transformer, tokenizer = hf_model.transformer, hf_model.tokenizer
        if self.precision in ONNX_PRECISIONS:
            if graph_file is not None:
                graph = Path(graph_file).read_bytes()
                check_graph(make_session(graph, 1, self.precision), transformer, tokenizer,
                            str(graph_file))
            else:
                graph = export_graph(transformer, tokenizer)
            self.graph = quantize_graph(graph) if self.precision == "onnx-int8" else graph
            runtime: Any = ConfigOnly(transformer.config)
        else:
            runtime = quantize_torch(transformer)
        self._set_runtime(HFObjects(tokenizer, runtime, hf_model.vocab_file_contents,
                                    hf_model._init_tokenizer_config,
                                    hf_model._init_transformer_config))

    def _set_runtime(self, hf_model: HFObjects) -> None:
        self._hfmodel = hf_model
        self._model = hf_model.transformer
        self._optimized = True
        self._session = None
        if self.graph:
            self.session()  # fail on load, not on the first batch

    def session(self) -> Any:
        """This process's ONNX Runtime session with ``threads`` intra-op threads, or as
        many as torch uses now. It is made again in a forked worker (a thread pool does
        not survive ``fork``) and after ``torch.set_num_threads`` changed the count."""
        key = (os.getpid(), self.threads or torch.get_num_threads())
        if self._session is None or self._session_key != key:
            if self._session is not None and self._session_key[0] != key[0]:
                # Made before the fork: destroying it here would wait on a lock that
                # one of the parent's ONNX Runtime threads held at the fork, forever.
                INHERITED_SESSIONS.append(self._session)
            self._session = make_session(self.graph, key[1], self.precision)
            self._session_key = key
        return self._session

    # --- running --------------------------------------------------------------------

    def predict(self, inputs: ArgsKwargs) -> Any:
        if not self._optimized:
            # Built from the config but neither loaded nor optimized (e.g. initialized
            # from the Hugging Face name): nothing of this precision exists yet.
            raise InferenceError(f"the {self.precision} transformer is not set up: load a "
                                 "pipeline saved after spacy_biobert.optimize, or optimize "
                                 "the fp32 pipeline")
        arrays = {name: value.cpu().numpy() for name, value in inputs.kwargs.items()}
        if self.precision in ONNX_PRECISIONS:
            session = self.session()
            outputs = run_by_length(arrays, lambda feed: run_session(session, feed))
        else:
            outputs = run_by_length(arrays, self._run_torch)
        tensors: Dict[str, Any] = {k: torch.from_numpy(v) for k, v in outputs.items()}
        if "pooler_output" in tensors:
            return BaseModelOutputWithPooling(**tensors)
        return BaseModelOutput(**tensors)

    def _run_torch(self, feed: Dict[str, Any]) -> Dict[str, Any]:
        self._model.eval()
        with torch.no_grad():
            out = self._model(**{k: torch.from_numpy(v) for k, v in feed.items()},
                              return_dict=True)
        return {name: out[name].numpy() for name in ("last_hidden_state", "pooler_output")
                if out.get(name) is not None}

    def begin_update(self, inputs: ArgsKwargs) -> Any:
        raise InferenceError(f"a {self.precision} transformer is for inference only: train "
                             "the fp32 pipeline, then optimize it")

    # --- serialization --------------------------------------------------------------

    def to_bytes(self) -> bytes:
        hf_model = self._hfmodel
        if not self._optimized:
            return super().to_bytes()
        state = b""
        if not self.graph:
            buffer = io.BytesIO()
            torch.save(self._model.state_dict(), buffer)
            state = buffer.getvalue()
        return srsly.msgpack_dumps({
            FORMAT_KEY: FORMAT, "precision": self.precision,
            "config": hf_model.transformer.config.to_dict(),
            "tokenizer": tokenizer_files(hf_model.tokenizer, hf_model.vocab_file_contents),
            "state": state, "graph": self.graph,
            "graph_sha256": hashlib.sha256(self.graph).hexdigest(),
        })

    def from_bytes(self, bytes_data: bytes) -> "OptimizedShim":
        msg = srsly.msgpack_loads(bytes_data)
        if FORMAT_KEY not in msg:
            if msg.get("config"):
                raise InferenceError(
                    f"the transformer's model file holds fp32 PyTorch weights, not a "
                    f"{self.precision} transformer: load it with the architecture it was "
                    "saved with, then call spacy_biobert.optimize")
            return super().from_bytes(bytes_data)
        check_saved(msg, self.precision)
        config, tokenizer, vocab = load_hf_files(msg["config"], msg["tokenizer"],
                                                 self.config_cls, self.tokenizer_cls)
        self.graph = msg["graph"]
        if self.graph:
            runtime: Any = ConfigOnly(config)
        else:
            runtime = quantize_torch(self.model_cls.from_config(config))
            runtime.load_state_dict(torch.load(io.BytesIO(msg["state"]), weights_only=False))
        self._set_runtime(HFObjects(tokenizer, runtime, vocab, {}, {}))
        if self.graph:
            check_hidden_size(self.session(), config)
        return self


def check_saved(msg: Dict[str, Any], precision: str) -> None:
    """Refuse a saved transformer of another format version, precision or checksum."""
    if msg[FORMAT_KEY] != FORMAT:
        raise InferenceError(
            f"the optimized transformer was saved in format {msg[FORMAT_KEY]}; this "
            f"spacy-biobert reads format {FORMAT}: optimize the fp32 pipeline again")
    if msg["precision"] != precision:
        raise InferenceError(f"the transformer's model file holds a {msg['precision']} "
                             f"transformer but the config says precision = {precision!r}")
    if hashlib.sha256(msg["graph"]).hexdigest() != msg["graph_sha256"]:
        raise InferenceError("the ONNX graph in the transformer's model file does not match "
                             "its recorded sha256: the file was changed or is corrupt")


def check_hidden_size(session: Any, config: Any) -> None:
    """Refuse a graph whose output width is not the saved config's hidden size."""
    shape = next(out.shape for out in session.get_outputs() if out.name == "last_hidden_state")
    width = shape[-1] if shape else None
    hidden = getattr(config, "hidden_size", None)
    if isinstance(width, int) and hidden is not None and width != hidden:
        raise InferenceError(f"the ONNX graph outputs width {width} but the transformer's "
                             f"config has hidden_size {hidden}: it is another model's graph")


def tokenizer_files(tokenizer: Any, vocab_file_contents: Optional[bytes]) -> Dict[str, Any]:
    """The files ``save_pretrained`` writes for ``tokenizer``, by name, plus its kwargs."""
    files: Dict[str, Any] = {"kwargs": {"use_fast": tokenizer.is_fast}}
    with tempfile.TemporaryDirectory() as tmp:
        if vocab_file_contents is not None and hasattr(tokenizer, "vocab_file"):
            # The vocab file it was loaded from may be gone (a deleted temp folder).
            vocab_path = Path(tmp) / tokenizer.vocab_files_names["vocab_file"]
            vocab_path.write_bytes(vocab_file_contents)
            tokenizer.vocab_file = str(vocab_path)
        tokenizer.save_pretrained(tmp)
        for path in Path(tmp).glob("**/*"):
            if path.is_file():
                files[path.name] = path.read_bytes()
    return files


def load_hf_files(config_dict: Dict[str, Any], files: Dict[str, Any], config_cls: Any,
                  tokenizer_cls: Any) -> Tuple[Any, Any, Optional[bytes]]:
    """(config, tokenizer, vocab file contents) from what :meth:`OptimizedShim.to_bytes`
    saved."""
    files = dict(files)
    kwargs = files.pop("kwargs", {})
    with tempfile.TemporaryDirectory() as tmp:
        srsly.write_json(Path(tmp) / "config.json", config_dict)
        config = config_cls.from_pretrained(Path(tmp) / "config.json")
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        tokenizer = tokenizer_cls.from_pretrained(tmp, **kwargs)
        vocab = None
        if hasattr(tokenizer, "vocab_file"):
            vocab_path = Path(tmp) / tokenizer.vocab_files_names["vocab_file"]
            vocab = vocab_path.read_bytes() if vocab_path.exists() else None
    return config, tokenizer, vocab
