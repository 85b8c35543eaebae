"""spacy_biobert.optimize: every precision predicts like fp32 on the tiny trained
pipeline, an optimized pipeline survives to_disk / spacy.load, and bad requests fail
with messages naming the option, extra or file."""
import copy
from pathlib import Path
from typing import Callable, List, Tuple

import numpy
import pytest
import spacy
from spacy.language import Language

from spacy_biobert import PRECISIONS, optimize
from spacy_biobert.extras import MissingExtraError, has_module
from spacy_biobert.inference import InferenceError, pipeline_precision

needs_onnxruntime = pytest.mark.skipif(
    not has_module("onnxruntime") or not has_module("onnx"),
    reason="onnxruntime/onnx not installed: pip install 'spacy-biobert[onnx]'")

TEXTS = ["Lithium and aspirin were given .", "BRCA1 is mutated in tumours .",
         "Rats given cocaine died after lithium ."]


def _ents(nlp: Language) -> List[List[Tuple[str, str]]]:
    return [[(e.text, e.label_) for e in doc.ents] for doc in nlp.pipe(TEXTS)]


def _hidden(nlp: Language) -> numpy.ndarray:
    doc = nlp("Lithium and aspirin were given .")
    return numpy.asarray(doc._.trf_data.model_output.last_hidden_state)


@pytest.fixture
def fp32_copy(trained_nlp: Language, tmp_path: Path) -> Callable[[], Language]:
    """Fresh copies of the session's trained pipeline (optimize works in place)."""
    trained_nlp.to_disk(tmp_path / "fp32")

    def load() -> Language:
        return spacy.load(tmp_path / "fp32")

    return load


@pytest.mark.parametrize("precision", [p if not p.startswith("onnx") else
                                       pytest.param(p, marks=needs_onnxruntime)
                                       for p in PRECISIONS])
def test_every_precision_predicts_like_fp32(fp32_copy: Callable[[], Language],
                                            precision: str) -> None:
    reference = fp32_copy()
    nlp = optimize(fp32_copy(), precision)
    assert pipeline_precision(nlp) == precision
    assert nlp.meta["spacy_biobert_precision"] == precision
    assert _ents(nlp) == _ents(reference)
    tolerance = 1e-4 if precision in ("fp32", "onnx") else 0.15
    numpy.testing.assert_allclose(_hidden(nlp), _hidden(reference), atol=tolerance)


@needs_onnxruntime
@pytest.mark.parametrize("precision", ["int8", "onnx-int8"])
def test_optimized_pipeline_roundtrips_to_disk(fp32_copy: Callable[[], Language],
                                               tmp_path: Path, precision: str) -> None:
    nlp = optimize(fp32_copy(), precision)
    expected, hidden = _ents(nlp), _hidden(nlp)
    nlp.to_disk(tmp_path / "opt")
    config = (tmp_path / "opt" / "config.cfg").read_text()
    assert "spacy-biobert.OptimizedTransformerModel.v1" in config
    assert f'precision = "{precision}"' in config
    loaded = spacy.load(tmp_path / "opt")
    assert pipeline_precision(loaded) == precision
    assert loaded.meta["spacy_biobert_precision"] == precision
    assert _ents(loaded) == expected
    numpy.testing.assert_allclose(_hidden(loaded), hidden, atol=1e-5)
    # No fp32 weights are saved beside the int8 ones.
    size = (tmp_path / "opt" / "transformer" / "model").stat().st_size
    assert size < (tmp_path / "fp32" / "transformer" / "model").stat().st_size
    # Optimizing to the precision it already has changes nothing.
    assert pipeline_precision(optimize(loaded, precision)) == precision
    with pytest.raises(InferenceError, match="already runs at"):
        optimize(loaded, "fp32" if precision != "fp32" else "int8")


def test_unsupported_precision_lists_the_valid_ones(fp32_copy: Callable[[], Language]) -> None:
    with pytest.raises(InferenceError, match="fp32, int8, onnx, onnx-int8"):
        optimize(fp32_copy(), "fp16")


def test_pipeline_without_transformer_is_refused(nlp: Language) -> None:
    nlp.add_pipe("sentencizer")
    with pytest.raises(InferenceError, match="no spacy-transformers 'transformer'"):
        optimize(nlp, "int8")


def test_missing_onnxruntime_names_the_extra(fp32_copy: Callable[[], Language],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    nlp = fp32_copy()
    with pytest.raises(MissingExtraError, match=r"spacy-biobert\[onnx\]"):
        optimize(nlp, "onnx")
    assert pipeline_precision(nlp) == "fp32"
    assert _ents(nlp)  # the fp32 path keeps working


@needs_onnxruntime
def test_missing_onnx_exporter_names_the_extra(fp32_copy: Callable[[], Language],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingExtraError, match=r"'onnx'.*spacy-biobert\[onnx\]"):
        optimize(fp32_copy(), "onnx-int8")


@needs_onnxruntime
def test_onnx_file_of_another_model_names_the_file(fp32_copy: Callable[[], Language],
                                                   tiny_bert: Path, tmp_path: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    from spacy_biobert.inference.onnx_graph import export_graph

    other = AutoModel.from_pretrained(tiny_bert)  # the untrained weights, not the pipeline's
    graph = tmp_path / "other.onnx"
    graph.write_bytes(export_graph(other, AutoTokenizer.from_pretrained(tiny_bert)))
    with pytest.raises(InferenceError, match="other.onnx.*another model"):
        optimize(fp32_copy(), "onnx", onnx_file=graph)


@needs_onnxruntime
def test_onnx_file_of_this_model_is_used(fp32_copy: Callable[[], Language],
                                         tmp_path: Path) -> None:
    from spacy_biobert.inference.onnx_graph import export_graph

    nlp = fp32_copy()
    hf = nlp.get_pipe("transformer").model.layers[0].shims[0]._hfmodel
    graph = tmp_path / "same.onnx"
    graph.write_bytes(export_graph(hf.transformer, hf.tokenizer))
    reference = _ents(nlp)
    assert _ents(optimize(nlp, "onnx", onnx_file=graph)) == reference


@needs_onnxruntime
def test_saved_graph_of_another_version_or_precision_is_refused(
        fp32_copy: Callable[[], Language], tmp_path: Path) -> None:
    import srsly

    optimize(fp32_copy(), "onnx").to_disk(tmp_path / "opt")
    model_file = tmp_path / "opt" / "transformer" / "model"
    original = model_file.read_bytes()

    def tamper(change: Callable[[dict], None]) -> None:
        msg = srsly.msgpack_loads(original)
        shim_msg = srsly.msgpack_loads(msg["shims"][1][0])
        change(shim_msg)
        msg["shims"][1][0] = srsly.msgpack_dumps(shim_msg)
        model_file.write_bytes(srsly.msgpack_dumps(msg))

    tamper(lambda m: m.update(spacy_biobert_inference=99))
    with pytest.raises(InferenceError, match="format 99"):
        spacy.load(tmp_path / "opt")
    tamper(lambda m: m.update(precision="onnx-int8"))
    with pytest.raises(InferenceError, match="onnx-int8 transformer but the config says"):
        spacy.load(tmp_path / "opt")
    tamper(lambda m: m.update(graph=m["graph"][:-1] + b"x"))
    with pytest.raises(InferenceError, match="sha256"):
        spacy.load(tmp_path / "opt")


def test_optimized_transformer_refuses_training(fp32_copy: Callable[[], Language],
                                                ner_data) -> None:  # type: ignore[no-untyped-def]
    nlp = optimize(fp32_copy(), "int8")
    chem, gene = ner_data.examples(nlp)
    with pytest.raises(InferenceError, match="inference only"):
        nlp.update(copy.deepcopy(chem))


def _annotated_ents(path: Path) -> dict:
    import json

    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {r["id"]: [(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in rows}


def _annotate_each(model: Path, tmp_path: Path, runs: dict) -> dict:
    """Entities by document id from ``annotate`` with each run's options, by run name."""
    import json

    from spacy_biobert.annotate import annotate
    from spacy_biobert.io import open_sink, open_source

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n"
                           for i, t in enumerate(TEXTS * 3)))
    out = {}
    for name, options in runs.items():
        summary = annotate(str(model), open_source(str(src)),
                           open_sink(str(tmp_path / f"{name}.jsonl")), batch_size=2, **options)
        assert summary.docs == 9
        out[name] = _annotated_ents(tmp_path / f"{name}.jsonl")
    return out


@needs_onnxruntime
def test_annotate_precision(trained_nlp: Language, tmp_path: Path) -> None:
    trained_nlp.to_disk(tmp_path / "model")
    ents = _annotate_each(tmp_path / "model", tmp_path, {
        "fp32": {"precision": "fp32"}, "onnx-int8": {"precision": "onnx-int8"}})
    assert any(ents["fp32"].values())
    assert ents["onnx-int8"] == ents["fp32"]


@pytest.mark.slow
@needs_onnxruntime
def test_annotate_precision_in_worker_processes(trained_nlp: Language, tmp_path: Path) -> None:
    """The workers load one optimized copy saved by the parent (about 20 s: two spawned
    interpreters import torch)."""
    trained_nlp.to_disk(tmp_path / "model")
    ents = _annotate_each(tmp_path / "model", tmp_path, {
        "fp32": {}, "workers": {"precision": "onnx-int8", "n_process": 2, "threads": 1}})
    assert any(ents["fp32"].values())
    assert ents["workers"] == ents["fp32"]


def test_annotate_refuses_an_unknown_precision(trained_nlp: Language, tmp_path: Path) -> None:
    from spacy_biobert.annotate import annotate
    from spacy_biobert.io import AnnotateError, open_sink, open_source

    (tmp_path / "in.jsonl").write_text('{"id": "a", "text": "Lithium ."}\n')
    with pytest.raises(AnnotateError, match="--precision 'bf16'.*fp32, int8, onnx, onnx-int8"):
        annotate(trained_nlp, open_source(str(tmp_path / "in.jsonl")),
                 open_sink(str(tmp_path / "out.jsonl")), precision="bf16")


@pytest.fixture
def optimized_folder(trained_nlp: Language, tmp_path: Path) -> Path:
    """``python -m spacy_biobert optimize`` of the tiny pipeline (named tiny_ner) at onnx-int8."""
    from typer.testing import CliRunner

    from spacy_biobert.cli import app

    meta = dict(trained_nlp.meta)
    trained_nlp.meta.update(name="tiny_ner", version="0.1.0")
    trained_nlp.to_disk(tmp_path / "model")
    trained_nlp.meta = meta
    result = CliRunner().invoke(app, ["optimize", str(tmp_path / "model"),
                                      str(tmp_path / "opt"), "--precision", "onnx-int8"])
    assert result.exit_code == 0, result.output
    return tmp_path / "opt"


@needs_onnxruntime
def test_optimize_command_writes_a_pipeline_that_says_its_precision(
        optimized_folder: Path) -> None:
    import json

    from typer.testing import CliRunner

    from spacy_biobert.cli import app

    meta = json.loads((optimized_folder / "meta.json").read_text())
    assert meta["name"] == "tiny_ner_onnx_int8" and meta["spacy_biobert_precision"] == "onnx-int8"
    assert "onnx-int8" in meta["description"] and "onnxruntime>=1.17" in meta["requirements"]
    assert pipeline_precision(spacy.load(optimized_folder)) == "onnx-int8"
    bad = CliRunner().invoke(app, ["optimize", str(optimized_folder.parent / "model"),
                                   str(optimized_folder.parent / "x"), "--precision", "int4"])
    assert bad.exit_code == 1 and "fp32, int8, onnx, onnx-int8" in bad.output


@pytest.mark.slow
@needs_onnxruntime
def test_spacy_package_ships_the_optimized_pipeline(optimized_folder: Path,
                                                    tmp_path: Path) -> None:
    """``spacy package`` in a subprocess (about 20 s)."""
    import json
    import subprocess
    import sys

    (tmp_path / "packages").mkdir()
    subprocess.run([sys.executable, "-m", "spacy", "package", str(optimized_folder),
                    str(tmp_path / "packages"), "--build", "none"], check=True,
                   capture_output=True)
    package = tmp_path / "packages" / "en_tiny_ner_onnx_int8-0.1.0"
    packaged_meta = json.loads((package / "meta.json").read_text())
    assert packaged_meta["spacy_biobert_precision"] == "onnx-int8"
    assert "onnxruntime>=1.17" in packaged_meta["requirements"]
    loaded = spacy.load(package / "en_tiny_ner_onnx_int8" / "en_tiny_ner_onnx_int8-0.1.0")
    assert pipeline_precision(loaded) == "onnx-int8"


@needs_onnxruntime
def test_forked_workers_make_their_own_session(fp32_copy: Callable[[], Language]) -> None:
    nlp = optimize(fp32_copy(), "onnx-int8")
    expected = _ents(nlp)  # the parent has run its session before the fork
    docs = list(nlp.pipe(TEXTS, n_process=2, batch_size=1))
    assert [[(e.text, e.label_) for e in doc.ents] for doc in docs] == expected


@needs_onnxruntime
def test_a_session_made_before_a_fork_is_kept_not_destroyed(
        fp32_copy: Callable[[], Language], monkeypatch: pytest.MonkeyPatch) -> None:
    """In a forked worker the parent's session must not be destroyed (its destructor
    can wait forever on a lock of the parent's threads): it is kept, a new one made."""
    from spacy_biobert.inference import shim

    nlp = optimize(fp32_copy(), "onnx-int8")
    expected = _ents(nlp)
    runtime = nlp.get_pipe("transformer").model.layers[0].shims[0]
    parent = runtime.session()
    monkeypatch.setattr(shim.os, "getpid", lambda: -12345)  # as in a forked worker
    child = runtime.session()
    assert child is not parent and any(s is parent for s in shim.INHERITED_SESSIONS)
    assert runtime.session() is child and _ents(nlp) == expected


def test_optimized_config_over_fp32_weights_is_refused(trained_nlp: Language,
                                                       tmp_path: Path) -> None:
    trained_nlp.to_disk(tmp_path / "fp32")
    config = tmp_path / "fp32" / "config.cfg"
    config.write_text(config.read_text().replace(
        '@architectures = "spacy-transformers.TransformerModel.v3"',
        '@architectures = "spacy-biobert.OptimizedTransformerModel.v1"\nprecision = "int8"'))
    with pytest.raises(InferenceError, match="holds fp32 PyTorch weights"):
        spacy.load(tmp_path / "fp32")
